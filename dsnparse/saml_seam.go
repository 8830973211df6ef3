package dsnparse

import "time"

// SAML is the identity-provider login of an IAM plugin that gets a SAML
// assertion and then AWS credentials from STS AssumeRoleWithSAML.
//
// Seam 3's stand-in for helper K's struct (CONTRACT26.md, seam 1), with
// the contract's field names: deleted when h26-keys is merged.
type SAML struct {
	Plugin                         string
	IdPHost                        string
	IdPPort                        int
	User, Password                 string
	PreferredRole                  string
	SSLInsecure                    bool
	AppID, AppName                 string
	PartnerSPID                    string
	Tenant, ClientID, ClientSecret string
	Assertion                      string
	LoginURL                       string
	ListenPort                     int
	ResponseTimeout                time.Duration
	DurationSeconds                int
}
