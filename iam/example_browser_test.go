package iam_test

import (
	"context"
	"database/sql"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/redshift-ka/redshift-ka/driver"
)

// A JDBC URL that signs in to Azure AD (Entra ID) in the user's browser:
// the sign-in URL is logged at info level and opened in the browser, the
// answer comes back to a listener on 127.0.0.1, and Redshift checks the
// token itself. Every connection of the program shares the token until it
// expires.
//
// It needs a person at a browser, Azure AD and a cluster, so it is
// compiled but not run.
func Example_browserAzureOAuth2() {
	c, err := driver.NewConnector("jdbc:redshift://etl-prod.abc123.eu-west-1.redshift.amazonaws.com:5439/dev?"+
		"plugin_name=com.amazon.redshift.plugin.BrowserAzureOAuth2CredentialsProvider&idp_tenant=contoso.onmicrosoft.com&"+
		"client_id=5a3c...&scope=api://5a3c.../jdbc_login&provider_name=azure_ad&listen_port=7891",
		driver.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))))
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	// Longer than idp_response_timeout (120 s), the most the sign-in waits.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		log.Fatal(err) // names the step: the browser sign-in or Azure's token endpoint
	}
}
