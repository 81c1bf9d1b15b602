package tidbro

// DAVPolicy is how tidbro's own CalDAV/CardDAV server treats what its
// clients write, per tenant (the setting DAVPolicyKey).
type DAVPolicy struct {
	// Direction: two-way (clients' writes become app changes, origin
	// dav-client) or app-to-groupware (the app leads: the collections are
	// read-only and writes are refused with the reason).
	Direction string `json:"direction"`
	// Ownership: shared (clients may change any item) or origin (clients
	// may change and delete only the items clients created).
	Ownership string `json:"ownership"`
	// ContactCreates: allow or refuse new contacts from clients (the app
	// may own its address book).
	ContactCreates string `json:"contactCreates"`
}

// DAVPolicyKey is the tenant setting holding the DAVPolicy.
const DAVPolicyKey = "dav-policy"

// ContactCreates values.
const (
	Allow  = "allow"
	Refuse = "refuse"
)

// WithDefaults fills empty values: two-way, shared, allow.
func (p DAVPolicy) WithDefaults() DAVPolicy {
	if p.Direction == "" {
		p.Direction = DirectionTwoWay
	}
	if p.Ownership == "" {
		p.Ownership = OwnershipShared
	}
	if p.ContactCreates == "" {
		p.ContactCreates = Allow
	}
	return p
}

func (p *DAVPolicy) Validate() error {
	if err := oneOf("direction", p.Direction, []string{"", DirectionTwoWay, DirectionAppToGroupware}); err != nil {
		return err
	}
	if err := oneOf("ownership", p.Ownership, []string{"", OwnershipShared, OwnershipOrigin}); err != nil {
		return err
	}
	return oneOf("contactCreates", p.ContactCreates, []string{"", Allow, Refuse})
}
