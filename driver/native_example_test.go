package driver_test

import (
	"context"
	"database/sql"
	"errors"
	"log"
	"net/url"
	"os"

	"github.com/redshift-ka/redshift-ka/driver"
)

// Redshift's native identity-provider login: a JWT from the identity
// provider, which Redshift checks itself. No AWS call, no iam import.
//
// It needs a server, so it is compiled but not run.
func Example_nativeLogin() {
	jwt := os.Getenv("IDP_JWT") // from your identity provider
	db, err := sql.Open("redshift-ka", "postgres://warehouse.example.com:5439/dev?sslmode=verify-full"+
		"&plugin_name=BasicJwtCredentialsProvider&provider_name=azure_idp&web_identity_token="+url.QueryEscape(jwt))
	if err != nil {
		log.Fatal(err) // never shows the token
	}
	defer db.Close()
	if err := db.PingContext(context.Background()); errors.Is(err, driver.ErrTokenWithoutTLS) {
		log.Fatal("the server asked for the token without TLS; it was not sent")
	} else if err != nil {
		log.Fatal(err) // "Amazon Redshift refused the identity-provider token: ..." if it did
	}
}
