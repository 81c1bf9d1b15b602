package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	b, err := New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := b.Seal([]byte("hunter2"))
	c2, _ := b.Seal([]byte("hunter2"))
	if bytes.Equal(c1, c2) || bytes.Contains(c1, []byte("hunter2")) {
		t.Fatal("ciphertexts must differ (random nonce) and not contain the plaintext")
	}
	p, err := b.Open(c1)
	if err != nil || string(p) != "hunter2" {
		t.Fatalf("open = %q, %v", p, err)
	}
	c1[len(c1)-1] ^= 1
	if _, err := b.Open(c1); err == nil {
		t.Fatal("tampered ciphertext opened")
	}
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(c2); err == nil {
		t.Fatal("opened with the wrong key")
	}
}

func TestLoadCreatesKeyFileOnce(t *testing.T) {
	t.Setenv(EnvKey, "")
	dir := filepath.Join(t.TempDir(), "data")
	b1, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	b2, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := b1.Seal([]byte("x"))
	if p, err := b2.Open(c); err != nil || string(p) != "x" {
		t.Fatal("second load must read the same key")
	}
}

func TestLoadFromEnv(t *testing.T) {
	t.Setenv(EnvKey, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	dir := t.TempDir()
	if _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); err == nil {
		t.Fatal("with the env key set no key file is written")
	}
	t.Setenv(EnvKey, "too-short")
	if _, err := Load(dir); err == nil {
		t.Fatal("a malformed key must be refused")
	}
}
