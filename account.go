package tidbro

import (
	"strings"
	"time"
)

// Tenant is one company database; all data is scoped to a tenant.
type Tenant struct {
	ID      int64
	Name    string
	Created time.Time
}

// DefaultTenant is created on first start.
const DefaultTenant = "default"

// User is a person in the app.
type User struct {
	ID          int64     `json:"-"`
	TenantID    int64     `json:"-"`
	Username    string    `json:"username"`
	Email       string    `json:"email,omitempty"`
	DisplayName string    `json:"displayName,omitempty"`
	TimeZone    string    `json:"timeZone,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

func (u *User) Validate() error {
	if err := ValidAppID("username", u.Username); err != nil {
		return err
	}
	if u.Email != "" && !validEmail(u.Email) {
		return Invalid("email", "%q is not an e-mail address", u.Email)
	}
	if err := validText("displayName", u.DisplayName, MaxIDLen); err != nil {
		return err
	}
	return validZone("timeZone", u.TimeZone)
}

// Token is an API bearer token of a tenant. Only a hash of the secret is
// stored.
type Token struct {
	ID       int64
	TenantID int64
	Name     string
	Created  time.Time
	Revoked  bool
}

// AppPassword lets a user's CalDAV/CardDAV clients into tidbro's DAV server
// (HTTP Basic with the username). Only a hash of the secret is stored; the
// secret is shown once, when it is made.
type AppPassword struct {
	ID       int64
	TenantID int64
	UserID   int64
	Name     string // what it is for ("iPhone")
	Created  time.Time
}

// AccountKind is the kind of groupware an account binds to.
type AccountKind string

const (
	AccountCalDAV  AccountKind = "caldav"
	AccountCardDAV AccountKind = "carddav"
	AccountGraph   AccountKind = "graph"
)

var accountKinds = []string{string(AccountCalDAV), string(AccountCardDAV), string(AccountGraph)}

// Account is a user's binding to groupware. Password is plaintext in memory
// only: the store encrypts it at rest and the API never returns it.
type Account struct {
	ID       int64
	TenantID int64
	UserID   int64
	Name     string
	Kind     AccountKind
	URL      string
	Username string
	Password string
	Policy   Policy
	Created  time.Time
	Updated  time.Time
}

func (a *Account) Validate() error {
	if err := ValidAppID("name", a.Name); err != nil {
		return err
	}
	if err := oneOf("kind", string(a.Kind), append([]string{""}, accountKinds...)); err != nil || a.Kind == "" {
		return Invalid("kind", "%q is not an account kind (%s)", a.Kind, strings.Join(accountKinds, ", "))
	}
	if a.URL == "" && a.Kind != AccountGraph {
		return Invalid("url", "a %s account needs the server's url", a.Kind)
	}
	if err := validURL("url", a.URL); err != nil {
		return err
	}
	if err := validText("username", a.Username, MaxIDLen); err != nil {
		return err
	}
	if err := validText("password", a.Password, 64<<10); err != nil {
		return err
	}
	return a.Policy.Validate()
}

// Policy is how a pair synchronises. See DESIGN.md, "Policy".
type Policy struct {
	Direction string  `json:"direction"` // two-way | app-to-groupware | groupware-to-app
	Ownership string  `json:"ownership"` // shared | origin
	Deletions string  `json:"deletions"` // propagate | restore | hold
	Conflicts string  `json:"conflicts"` // app | groupware | newest | merge
	Private   string  `json:"private"`   // skip | busy | import
	Window    *Window `json:"window"`    // nil: unlimited
	Kinds     []Kind  `json:"kinds"`     // which kinds the account synchronises
	// MassDeletePercent stops a run that would delete more than this share of
	// a side's linked items (a side suddenly empty always stops it).
	MassDeletePercent int `json:"massDeletePercent"`
	// Interval between scheduled runs of the account's pairs (a Go
	// duration, "10m"); empty: the tenant's. App changes and remote
	// notifications start runs at once whatever it says.
	Interval string `json:"interval,omitempty"`
}

// Window is how far into the past and future events and jobs are synchronised.
type Window struct {
	PastDays   int `json:"pastDays"`
	FutureDays int `json:"futureDays"`
}

// Policy values.
const (
	DirectionTwoWay         = "two-way"
	DirectionAppToGroupware = "app-to-groupware"
	DirectionGroupwareToApp = "groupware-to-app"
	OwnershipShared         = "shared"
	OwnershipOrigin         = "origin"
	DeletionsPropagate      = "propagate"
	DeletionsRestore        = "restore"
	DeletionsHold           = "hold"
	ConflictsApp            = "app"
	ConflictsGroupware      = "groupware"
	ConflictsNewest         = "newest"
	ConflictsMerge          = "merge"
	PrivateSkip             = "skip"
	PrivateBusy             = "busy"
	PrivateImport           = "import"
)

// DefaultWindow is used when a policy does not name one.
var DefaultWindow = Window{PastDays: 30, FutureDays: 365}

// DefaultPolicy returns the defaults of DESIGN.md.
func DefaultPolicy() Policy {
	w := DefaultWindow
	return Policy{
		Direction: DirectionTwoWay, Ownership: OwnershipShared, Deletions: DeletionsPropagate,
		Conflicts: ConflictsNewest, Private: PrivateSkip, Window: &w,
		Kinds: []Kind{KindEvent, KindJob, KindTask, KindContact}, MassDeletePercent: 50,
	}
}

// WithDefaults fills empty values with the defaults.
func (p Policy) WithDefaults() Policy {
	d := DefaultPolicy()
	set := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	set(&p.Direction, d.Direction)
	set(&p.Ownership, d.Ownership)
	set(&p.Deletions, d.Deletions)
	set(&p.Conflicts, d.Conflicts)
	set(&p.Private, d.Private)
	if len(p.Kinds) == 0 {
		p.Kinds = d.Kinds
	}
	if p.MassDeletePercent == 0 {
		p.MassDeletePercent = d.MassDeletePercent
	}
	return p
}

func (p *Policy) Validate() error {
	for _, c := range []struct {
		field, v string
		allowed  []string
	}{
		{"policy.direction", p.Direction, []string{"", DirectionTwoWay, DirectionAppToGroupware, DirectionGroupwareToApp}},
		{"policy.ownership", p.Ownership, []string{"", OwnershipShared, OwnershipOrigin}},
		{"policy.deletions", p.Deletions, []string{"", DeletionsPropagate, DeletionsRestore, DeletionsHold}},
		{"policy.conflicts", p.Conflicts, []string{"", ConflictsApp, ConflictsGroupware, ConflictsNewest, ConflictsMerge}},
		{"policy.private", p.Private, []string{"", PrivateSkip, PrivateBusy, PrivateImport}},
	} {
		if err := oneOf(c.field, c.v, c.allowed); err != nil {
			return err
		}
	}
	if w := p.Window; w != nil && (w.PastDays < 0 || w.FutureDays < 0) {
		return Invalid("policy.window", "pastDays and futureDays cannot be negative")
	}
	for _, k := range p.Kinds {
		if pk, ok := ParseKind(string(k)); !ok || pk != k {
			return Invalid("policy.kinds", "%q is not a kind (event, job, task, contact)", k)
		}
	}
	if p.Interval != "" {
		if d, err := time.ParseDuration(p.Interval); err != nil || d < 30*time.Second {
			return Invalid("policy.interval", "%q is not a duration of 30s or more (such as 10m)", p.Interval)
		}
	}
	if p.MassDeletePercent < 0 || p.MassDeletePercent > 100 {
		return Invalid("policy.massDeletePercent", "%d is outside 0..100", p.MassDeletePercent)
	}
	return nil
}
