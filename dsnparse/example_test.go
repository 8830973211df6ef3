package dsnparse_test

import (
	"fmt"
	"strings"

	"github.com/redshift-ka/redshift-ka/dsnparse"
)

func ExampleParse() {
	d, err := dsnparse.Parse("Driver={Amazon Redshift (x64)};Server=warehouse.example.com;Database=dev;UID=etl;PWD={se;cret};KeepAlivesIdle=200;KeepAliveCount=5")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Form, d.Config.Idle, d.Config.Count)
	fmt.Println(d.Rest)
	for _, k := range d.Config.Ignored {
		fmt.Printf("dropped %s (%s): %s\n", k.Key, k.Driver, k.Does)
	}
	// Output:
	// ODBC 3m20s 5
	// host=warehouse.example.com dbname=dev user=etl password='se;cret' port=5439
	// dropped Driver (ODBC): read by the ODBC driver manager or Amazon's ODBC driver only
}

func ExampleParse_keys() {
	d, err := dsnparse.Parse("postgres://etl@warehouse.example.com:5439/dev?TCPKeepAliveMinutes=3&LoginTimeout=30&search_path=etl&sslmode=require&readOnly=true")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Config.Idle, d.Rest)
	for _, k := range d.Keys {
		fmt.Printf("%s: %s, %s\n", k.Key, k.Went, k.To)
	}
	_, err = dsnparse.Parse("postgres://warehouse.example.com/dev?KeepAliveIdel=200")
	fmt.Println(err)
	// Output:
	// 3m0s postgres://etl@warehouse.example.com:5439/dev?connect_timeout=30&search_path=etl&sslmode=require
	// TCPKeepAliveMinutes: ours, KeepAlivesIdle
	// LoginTimeout: ours, connect_timeout
	// search_path: server parameter, search_path
	// sslmode: pgx/lib/pq, sslmode
	// readOnly: dropped, JDBC: a setting of Amazon's JDBC driver (statements, fetching, logging, Java classes); not PostgreSQL's
	// redshift-ka: KeepAliveIdel: unknown key; did you mean KeepAlivesIdle?
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
	// {ClusterID:etl-prod Workgroup: Region:us-east-1 DbUser:etl DbGroups:[loaders readers] AutoCreate:true DurationSeconds:0 Profile: AccessKeyID:AKIAEXAMPLE SecretAccessKey:xxxxx SessionToken: EndpointURL: STSEndpointURL: GroupFederation:false ForceLowercase:false Serverless:false DbName:dev CustomDomain: LookupEndpoint:false HTTPSProxyHost: HTTPSProxyPort:0 HTTPSProxyUser: HTTPSProxyPassword: DisableCache:false WebIdentity:{Token: RoleARN: RoleSessionName: DurationSeconds:0} SAML:{Plugin: IdPHost: IdPPort:0 User: Password: PreferredRole: SSLInsecure:false AppID: AppName: PartnerSPID: LoginToRP: Tenant: ClientID: ClientSecret: Partition: Assertion: LoginURL: ListenPort:0 ResponseTimeout:0s DurationSeconds:0 UseHTTPSProxy:false DbGroupsFilter:}}
}

func ExampleParse_plugin() {
	d, err := dsnparse.Parse("Driver={Amazon Redshift (x64)};Server=etl-prod.c9abcdefgh.us-east-1.redshift.amazonaws.com;Database=dev;" +
		"IAM=1;plugin_name=Okta;idp_host=example.okta.com;app_id=0oa1b2c3d4;preferred_role=arn:aws:iam::123456789012:role/etl;" +
		"UID=ann@example.com;PWD={s3cr;et}")
	if err != nil {
		fmt.Println(err)
		return
	}
	s := d.IAM.SAML
	fmt.Println(s.Plugin, s.IdPHost, s.IdPPort, s.AppID, s.AppName, s.User, s.PreferredRole)
	fmt.Printf("DbUser %q (from the assertion); printed: %v\n", d.IAM.DbUser, strings.Contains(fmt.Sprint(d), "s3cr"))
	_, err = dsnparse.Parse("Server=etl-prod.c9abcdefgh.us-east-1.redshift.amazonaws.com;IAM=1;plugin_name=Okta;app_id=0oa1b2c3d4;UID=ann;PWD=x")
	fmt.Println(err)
	// Output:
	// OktaCredentialsProvider example.okta.com 443 0oa1b2c3d4 amazon_aws ann@example.com arn:aws:iam::123456789012:role/etl
	// DbUser "" (from the assertion); printed: false
	// redshift-ka: plugin_name: OktaCredentialsProvider needs idp_host
}
