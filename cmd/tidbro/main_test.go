package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeFromScratch builds the binary, starts it on an empty data
// directory with no configuration, and drives the README's curl session
// over real HTTP; then stops it with SIGTERM.
func TestServeFromScratch(t *testing.T) {
	dir := t.TempDir()
	bin := binary(t)
	addr := freeAddr(t)
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", data)
	cmd.Env = append(os.Environ(), "TIDBRO_DB=", "TIDBRO_SECRET_KEY=")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("not ready after a minute; logs:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("ready %v after start", time.Since(start).Round(time.Millisecond))

	for name, mode := range map[string]os.FileMode{"admin-token": 0o600, "secret-key": 0o600} {
		fi, err := os.Stat(filepath.Join(data, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Fatalf("%s: %v, mode %v", name, err, fi)
		}
	}
	tok, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	call := func(method, path, body string, want int) map[string]any {
		t.Helper()
		return apiCall(t, base, token, method, path, body, want)
	}
	call("PUT", "/v1/users/alice", `{"email":"alice@example.com","timeZone":"Europe/Stockholm"}`, 201)
	call("PUT", "/v1/users/alice/events/A-1001", `{"summary":"Visit","start":"2026-05-04T09:00:00+02:00","end":"2026-05-04T10:00:00+02:00","timeZone":"Europe/Stockholm"}`, 201)
	call("GET", "/v1/users/alice/events/A-1001", "", 200)
	if l := call("GET", "/v1/users/alice/events?from=2026-05-01&to=2026-06-01", "", 200); len(l["items"].([]any)) != 1 {
		t.Fatalf("list: %v", l)
	}
	call("DELETE", "/v1/users/alice/events/A-1001", "", 204)
	changes := call("GET", "/v1/changes?since=", "", 200)["changes"].([]any)
	if len(changes) != 2 || changes[0].(map[string]any)["op"] != "upsert" || changes[1].(map[string]any)["op"] != "delete" {
		t.Fatalf("changes: %v", changes)
	}

	// The CLI works against the same database while serve runs.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"user", "list", "--data", data}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "alice") {
		t.Fatalf("user list while serving: %v\n%s", err, out.String())
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30 s after SIGTERM")
	}
	if !strings.Contains(logs.String(), `"msg":"shutting down"`) {
		t.Fatalf("no graceful shutdown logged (JSON logs when not a terminal):\n%s", logs.String())
	}
	if strings.Contains(logs.String(), token) {
		t.Fatal("the admin token was logged")
	}
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestAdminCommands(t *testing.T) {
	data := t.TempDir()
	t.Setenv("TIDBRO_SECRET_KEY", "")
	t.Setenv("TIDBRO_DB", "")
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append(args, "--data", data), &out, io.Discard)
		return out.String(), err
	}
	if _, err := cli("user", "add", "bo", "--email", "bo@example.com", "--tz", "Europe/Oslo"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli("user", "add", "bad", "--tz", "Nowhere/Town"); err == nil || !strings.Contains(err.Error(), "timeZone") {
		t.Fatalf("a bad zone must be refused naming the field: %v", err)
	}
	out, err := cli("user", "list")
	if err != nil || !strings.Contains(out, "bo@example.com") || strings.Contains(out, "bad") {
		t.Fatalf("user list: %v\n%s", err, out)
	}
	token, err := cli("token", "create", "--name", "erp")
	if err != nil || !strings.HasPrefix(token, "tb_") {
		t.Fatalf("token create: %v %q", err, token)
	}
	out, _ = cli("token", "list")
	var id string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == "erp" {
			id = f[0]
		}
	}
	if id == "" {
		t.Fatalf("token list lacks erp:\n%s", out)
	}
	if _, err := cli("token", "revoke", id); err != nil {
		t.Fatal(err)
	}
	if out, _ = cli("token", "list"); !strings.Contains(out, "true") {
		t.Fatalf("revoked token not shown as revoked:\n%s", out)
	}
	if _, err := cli("tenant", "add", "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli("tenant", "add", "acme"); err == nil {
		t.Fatal("a duplicate tenant must be refused")
	}
	if out, _ := cli("tenant", "list"); !strings.Contains(out, "acme") || !strings.Contains(out, "default") {
		t.Fatalf("tenant list:\n%s", out)
	}
	if _, err := cli("user", "list", "--tenant", "nope"); err == nil {
		t.Fatal("an unknown tenant must be an error")
	}
	if err := run(context.Background(), []string{"frobnicate"}, io.Discard, io.Discard); err == nil {
		t.Fatal("an unknown command must be an error")
	}
	var v bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &v, io.Discard); err != nil || !strings.HasPrefix(v.String(), "tidbro ") {
		t.Fatalf("version: %v %q", err, v.String())
	}
}
