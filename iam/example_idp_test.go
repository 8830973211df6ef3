package iam_test

import (
	"database/sql"
	"log"
)

// A redshift_connector URL that signs in to Okta with the user's password
// (credentials_provider=OktaCredentialsProvider, the app's id), then
// assumes the assertion's role with STS AssumeRoleWithSAML.
//
// It needs Okta, AWS and a cluster, so it is compiled but not run.
func Example_okta() {
	db, err := sql.Open("redshift-ka", "postgres://etl-prod.abc123.eu-west-1.redshift.amazonaws.com:5439/dev?iam=true"+
		"&credentials_provider=OktaCredentialsProvider&idp_host=corp.okta.com&app_id=0oa1b2c3d4e5f6g7h8i9"+
		"&user=ann%40corp.example&password=s3cret%23pw")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		log.Fatal(err) // "Okta refused the password for user ann@corp.example ...", never the password
	}
}

// An ODBC DSN that asks Azure AD for a SAML assertion with the user's
// password (plugin_name=AzureAD, the tenant and the app's client id and
// secret).
//
// It needs Azure AD, AWS and a cluster, so it is compiled but not run.
func Example_azure() {
	db, err := sql.Open("redshift-ka", "Server=etl-prod.abc123.eu-west-1.redshift.amazonaws.com;Database=dev;IAM=1;"+
		"plugin_name=AzureAD;idp_tenant=contoso.onmicrosoft.com;client_id=5e1c0f1a-0000-4000-8000-000000000000;"+
		"client_secret={app;secret};UID=ann@contoso.com;PWD={s3cret;pw}")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		log.Fatal(err) // "Azure AD refused the password for user ann@contoso.com ...: invalid_grant: AADSTS50126 ..."
	}
}
