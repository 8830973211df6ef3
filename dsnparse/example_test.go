package dsnparse_test

import (
	"fmt"

	"github.com/redshift-ka/redshift-ka/dsnparse"
)

func ExampleParse() {
	d, err := dsnparse.Parse("Driver={Amazon Redshift (x64)};Server=warehouse.example.com;Database=dev;UID=etl;PWD={se;cret};KeepAlivesIdle=200;KeepAliveCount=5")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Form, d.Config.Idle, d.Config.Count, d.Config.Ignored)
	fmt.Println(d.Rest)
	// Output:
	// ODBC 3m20s 5 [Driver]
	// host=warehouse.example.com dbname=dev user=etl password='se;cret' port=5439
}

func ExampleParse_error() {
	_, err := dsnparse.Parse("postgres://etl:secret@warehouse.example.com:5439/dev?KeepAlivesIdle=abc")
	fmt.Println(err)
	// Output:
	// redshift-ka: KeepAlivesIdle: want whole seconds 0..32767, got "abc"
}

func ExampleParse_iam() {
	d, err := dsnparse.Parse("jdbc:redshift:iam://etl-prod.c9abcdefgh.us-east-1.redshift.amazonaws.com:5439/dev?DbUser=etl&DbGroups=loaders,readers&AutoCreate=true&AccessKeyID=AKIAEXAMPLE&SecretAccessKey=wJalrXUtnFEMI%2FK7MDENG&tcpKeepAlive=true")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Form, d.Rest)
	fmt.Printf("%+v\n", *d.IAM)
	// Output:
	// JDBC host=etl-prod.c9abcdefgh.us-east-1.redshift.amazonaws.com port=5439 dbname=dev sslmode=verify-ca
	// {ClusterID:etl-prod Workgroup: Region:us-east-1 DbUser:etl DbGroups:[loaders readers] AutoCreate:true DurationSeconds:0 Profile: AccessKeyID:AKIAEXAMPLE SecretAccessKey:xxxxx SessionToken: EndpointURL: GroupFederation:false ForceLowercase:false Serverless:false DbName:dev CustomDomain: LookupEndpoint:false HTTPSProxyHost: HTTPSProxyPort:0 HTTPSProxyUser: HTTPSProxyPassword: DisableCache:false}
}

func ExampleParse_plugin() {
	_, err := dsnparse.Parse("Driver={Amazon Redshift (x64)};Server=warehouse.example.com;IAM=1;plugin_name=Okta;idp_host=example.okta.com")
	fmt.Println(err)
	// Output:
	// redshift-ka: plugin_name: identity-provider plugins are not supported; log in with IAM credentials (AccessKeyID and SecretAccessKey, Profile, or the AWS SDK's default chain) or a password
}
