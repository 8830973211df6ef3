package iam_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"

	"github.com/redshift-ka/redshift-ka/driver"
	_ "github.com/redshift-ka/redshift-ka/iam"
)

// An ODBC DSN as Amazon's ODBC driver takes it: the cluster and region come
// from the host name, the AWS credentials from the SDK's chain (here the
// shared files' profile etl).
//
// It needs AWS and a cluster, so it is compiled but not run.
func Example() {
	db, err := sql.Open("redshift-ka",
		"Server=etl-prod.abc123.eu-west-1.redshift.amazonaws.com;Database=dev;IAM=1;DbUser=etl;DbGroups=loaders;Profile=etl")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	var user string
	if err := db.QueryRow("SELECT current_user").Scan(&user); err != nil {
		log.Fatal(err) // an *iam.Error names the API, AWS's error code and the request id
	}
	fmt.Println(user) // IAM:etl
}

// A connector's Login says which API it calls, and hands out the
// credentials its connections log in with (cached; never print the
// password).
//
// It needs AWS and a cluster, so it is compiled but not run.
func Example_login() {
	c, err := driver.NewConnector("jdbc:redshift:iam://etl-prod.abc123.eu-west-1.redshift.amazonaws.com:5439/dev?DbUser=etl")
	if err != nil {
		log.Fatal(err)
	}
	p := c.Login().Plan()
	fmt.Println(p.API, p.Target(), p.Region, p.DbUser)
	cr, err := c.Login().Credentials(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cr) // user IAM:etl, password xxxxx, expires ...
}

// An ODBC DSN that signs in to ADFS with the user's Windows account, then
// assumes the role the assertion grants (preferred_role) with STS
// AssumeRoleWithSAML; the database user is the assertion's DbUser.
//
// It needs ADFS, AWS and a cluster, so it is compiled but not run.
func Example_adfs() {
	db, err := sql.Open("redshift-ka", "Server=etl-prod.abc123.eu-west-1.redshift.amazonaws.com;Database=dev;IAM=1;"+
		"plugin_name=ADFS;idp_host=adfs.corp.example;UID=ann@corp.example;PWD={s3cret;pw};"+
		"preferred_role=arn:aws:iam::123456789012:role/etl")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		log.Fatal(err) // names the step: the ADFS sign-in, the assertion's roles, or STS
	}
}
