package iam_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"

	"github.com/redshift-ka/redshift-ka/driver"
	_ "github.com/redshift-ka/redshift-ka/iam"
)

// IdpTokenAuthPlugin with the AWS credentials of an identity-enhanced
// role session: each new connection sends the IAM Identity Center token
// GetIdentityCenterAuthToken gives for them, cached once per process.
// LoginSteps lists the calls, as redshift-ka check shows them.
//
// It needs AWS and a cluster, so it is compiled but not run.
func Example_identityCenter() {
	dsn := "Server=etl-prod.abc123.eu-west-1.redshift.amazonaws.com;Database=dev;SSLMode=verify-full;" +
		"plugin_name=IdpTokenAuthPlugin;AccessKeyID=" + os.Getenv("AWS_ACCESS_KEY_ID") +
		";SecretAccessKey={" + os.Getenv("AWS_SECRET_ACCESS_KEY") + "};SessionToken={" + os.Getenv("AWS_SESSION_TOKEN") + "}"
	c, err := driver.NewConnector(dsn)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range c.LoginSteps() {
		fmt.Println(s.Name, s.Detail) // GetIdentityCenterAuthToken cluster etl-prod, region eu-west-1
	}
	db := sql.OpenDB(c)
	defer db.Close()
	var user string
	if err := db.QueryRowContext(context.Background(), "SELECT current_user").Scan(&user); err != nil {
		log.Fatal(err) // an *iam.Error names GetIdentityCenterAuthToken, AWS's error code and the request id
	}
	fmt.Println(user)
}
