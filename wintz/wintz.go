// Package wintz maps Windows time zone names (what Outlook, Exchange and
// Microsoft Graph write) to IANA names and back, from CLDR's windowsZones
// table. zones.go is generated: scripts/gen-windows-zones.
package wintz

//go:generate go run gen.go

// ToIANA returns the IANA zone of a Windows zone name ("W. Europe Standard
// Time" → "Europe/Berlin").
func ToIANA(windows string) (string, bool) {
	z, ok := toIANA[windows]
	return z, ok
}

// FromIANA returns the Windows zone name covering an IANA zone
// ("Europe/Stockholm" → "W. Europe Standard Time").
func FromIANA(iana string) (string, bool) {
	z, ok := fromIANA[iana]
	return z, ok
}
