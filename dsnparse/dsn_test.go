package dsnparse

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dsnCase is one valid DSN, what it must parse to, and the DSN pgx gets.
type dsnCase struct {
	name    string
	dsn     string
	form    Form
	cfg     Config
	rest    string
	ignored []string
	iam     *IAM
}

// quoteValue returns v as a quoted libpq value.
func quoteValue(v string) string { return quote(v) }

func keys(kv ...any) KeyNames {
	var k KeyNames
	for i := 0; i < len(kv); i += 2 {
		k[kv[i].(Setting)] = kv[i+1].(string)
	}
	return k
}

var testDSNs = []dsnCase{
	// URL form.
	{
		name: "url/plural",
		dsn:  "postgres://u:pw@h:5439/db?sslmode=require&KeepAlivesIdle=200&KeepAlivesInterval=20&KeepAlivesCount=5",
		form: FormURL,
		cfg:  Config{Idle: 200 * time.Second, Interval: 20 * time.Second, Count: 5, Keys: keys(Idle, "KeepAlivesIdle", Interval, "KeepAlivesInterval", Count, "KeepAlivesCount")},
		rest: "postgres://u:pw@h:5439/db?sslmode=require",
	},
	{
		name: "url/singular+libpq+user_timeout",
		dsn:  "postgresql://h/db?KeepAliveIdle=7&application_name=etl&keepalives_interval=3&tcp_user_timeout=2500",
		form: FormURL,
		cfg:  Config{Idle: 7 * time.Second, Interval: 3 * time.Second, UserTimeout: 2500 * time.Millisecond, Keys: keys(Idle, "KeepAliveIdle", Interval, "keepalives_interval", UserTimeout, "tcp_user_timeout")},
		rest: "postgresql://h/db?application_name=etl",
	},
	{
		name: "url/keys as lib/pq reads them",
		dsn:  "postgres://h/db?+keepalives_idle=5&%20KeepAlivesCount=3&sslmode=disable",
		form: FormURL,
		cfg:  Config{Idle: 5 * time.Second, Count: 3, Keys: keys(Idle, "keepalives_idle", Count, "KeepAlivesCount")},
		rest: "postgres://h/db?sslmode=disable",
	},
	{
		name: "url/a '#' is part of the query, as pgx reads it",
		dsn:  "postgres://h/db?application_name=a#b&KeepAlivesIdle=5&&x=",
		form: FormURL,
		cfg:  Config{Idle: 5 * time.Second, Keys: keys(Idle, "KeepAlivesIdle")},
		rest: "postgres://h/db?application_name=a#b&&x=",
	},
	{
		name: "url/redshift_connector names, any case",
		dsn:  "postgres://h/db?TCP_KEEPALIVE_IDLE=9&tcp_keepalive_count=4&tcpKeepAlive=true",
		form: FormURL,
		cfg:  Config{Idle: 9 * time.Second, Count: 4, Keys: keys(Idle, "TCP_KEEPALIVE_IDLE", Count, "tcp_keepalive_count", KeepAlive, "tcpKeepAlive")},
		rest: "postgres://h/db",
	},
	{
		name: "url/keepalives=0",
		dsn:  "postgres://h/db?keepalives=0&options=-c%20search_path%3Dx",
		form: FormURL,
		cfg:  Config{NoKeepAlive: true, Keys: keys(KeepAlive, "keepalives")},
		rest: "postgres://h/db?options=-c%20search_path%3Dx",
	},
	{
		name: "url/zeros mean OS",
		dsn:  "postgres://h/db?KeepAlivesIdle=0&KeepAlivesInterval=0&KeepAlivesCount=0",
		form: FormURL,
		cfg:  Config{Keys: keys(Idle, "KeepAlivesIdle", Interval, "KeepAlivesInterval", Count, "KeepAlivesCount")},
		rest: "postgres://h/db",
	},
	{
		name: "url/no keys",
		dsn:  "postgres://u:p%40ss@h1:5432,h2:5433/db?target_session_attrs=read-write#frag",
		form: FormURL,
		rest: "postgres://u:p%40ss@h1:5432,h2:5433/db?target_session_attrs=read-write#frag",
	},
	{
		name: "url/same value twice",
		dsn:  "postgres://h/db?KeepAlivesIdle=5&keepalives_idle=05",
		form: FormURL,
		cfg:  Config{Idle: 5 * time.Second, Keys: keys(Idle, "KeepAlivesIdle")},
		rest: "postgres://h/db",
	},
	{
		name: "url/escaped key",
		dsn:  "postgres://h/db?Keep%41livesIdle=11",
		form: FormURL,
		cfg:  Config{Idle: 11 * time.Second, Keys: keys(Idle, "KeepAlivesIdle")},
		rest: "postgres://h/db",
	},
	// key=value form.
	{
		name: "kv/a ';' first in what is handed on is quoted",
		dsn:  "keepalives=1 a=; b=2",
		form: FormKeyValue,
		cfg:  Config{Keys: keys(KeepAlive, "keepalives")},
		rest: "a=';' b=2",
	},
	{
		name: "kv/libpq",
		dsn:  "host=h port=5439 dbname=dev keepalives_idle=200 keepalives_interval=10 keepalives_count=3 user=u password='a b\\'c'",
		form: FormKeyValue,
		cfg:  Config{Idle: 200 * time.Second, Interval: 10 * time.Second, Count: 3, Keys: keys(Idle, "keepalives_idle", Interval, "keepalives_interval", Count, "keepalives_count")},
		rest: "host=h port=5439 dbname=dev user=u password='a b\\'c'",
	},
	{
		name: "kv/spaces around = and quoted owned value",
		dsn:  "  host = h KeepAlivesIdle = '42'\tkeepalives = 1 application_name='x y'  ",
		form: FormKeyValue,
		cfg:  Config{Idle: 42 * time.Second, Keys: keys(Idle, "KeepAlivesIdle", KeepAlive, "keepalives")},
		rest: "host = h application_name='x y'",
	},
	{
		name: "kv/off and user timeout",
		dsn:  "host=h tcp_keepalive=false tcp_user_timeout=0",
		form: FormKeyValue,
		cfg:  Config{NoKeepAlive: true, Keys: keys(KeepAlive, "tcp_keepalive", UserTimeout, "tcp_user_timeout")},
		rest: "host=h",
	},
	{
		name: "kv/database first, as pgx accepts",
		dsn:  "database=dev host=db password=Hunter2X KeepAlivesIdle=200",
		form: FormKeyValue,
		cfg:  Config{Idle: 200 * time.Second, Keys: keys(Idle, "KeepAlivesIdle")},
		rest: "database=dev host=db password=Hunter2X",
	},
	{
		name: "odbc/Database first with a semicolon",
		dsn:  "Database=dev;Server=db",
		form: FormODBC,
		rest: "dbname=dev host=db port=5439",
	},
	{
		name: "kv/empty",
		dsn:  "",
		form: FormKeyValue,
	},
	{
		name: "kv/password with semicolon after a space",
		dsn:  "host=h password=a;b",
		form: FormKeyValue,
		rest: "host=h password=a;b",
	},
	// ODBC form.
	{
		name:    "odbc/amazon",
		dsn:     "Driver={Amazon Redshift (x64)};Server=h.example;Port=5439;Database=dev;UID=u;PWD={p;w}}d};SSLMode=require;KeepAlivesIdle=200;KeepAlivesCount=5",
		form:    FormODBC,
		cfg:     Config{Idle: 200 * time.Second, Count: 5, Keys: keys(Idle, "KeepAlivesIdle", Count, "KeepAlivesCount")},
		rest:    "host=h.example port=5439 dbname=dev user=u password='p;w}d' sslmode=require",
		ignored: []string{"Driver"},
	},
	{
		name: "odbc/default port, case-insensitive keys, singular",
		dsn:  "server=h;database=dev;uid=u;pwd=x'y\\z;keepaliveinterval=30;KEEPALIVE=1;Application_Name=job;",
		form: FormODBC,
		cfg:  Config{Interval: 30 * time.Second, Keys: keys(Interval, "keepaliveinterval", KeepAlive, "KEEPALIVE")},
		rest: "host=h dbname=dev user=u password='x\\'y\\\\z' application_name=job port=5439",
	},
	{
		name:    "odbc/Host alias and same value twice",
		dsn:     "Host=h;Server=h;Port=5432;IAM=0;Database=d",
		form:    FormODBC,
		rest:    "host=h port=5432 dbname=d",
		ignored: []string{"IAM"},
	},
	// JDBC form.
	{
		name:    "jdbc/plain, '&' and ';' between parameters",
		dsn:     "jdbc:redshift://h.example:5439/dev?user=etl&password=p%3Bw+x;ssl=true&ApplicationName=job&tcpKeepAlive=false&loginTimeout=30",
		form:    FormJDBC,
		cfg:     Config{NoKeepAlive: true, Keys: keys(KeepAlive, "tcpKeepAlive")},
		rest:    "connect_timeout=30 host=h.example port=5439 dbname=dev user=etl password='p;w x' application_name=job sslmode=verify-ca",
		ignored: nil,
	},
	{
		name: "jdbc/query after ';', several hosts, default port",
		dsn:  "jdbc:redshift://h1,h2:5440/my%20db;UID=etl;PWD=Hunter2X;sslmode=disable;KeepAlivesIdle=200;ssl=true",
		form: FormJDBC,
		cfg:  Config{Idle: 200 * time.Second, Keys: keys(Idle, "KeepAlivesIdle"), Ignored: nil},
		rest: "host=h1,h2 port=5439,5440 dbname='my db' user=etl password=Hunter2X sslmode=disable",
		// ssl is dropped: sslmode says it.
		ignored: []string{"ssl"},
	},
	{
		name: "jdbc/no database, ssl=false, HOST as a parameter agreeing",
		dsn:  "jdbc:redshift://[::1]:5439?HOST=::1&ssl=false&connectTimeout=10",
		form: FormJDBC,
		rest: "connect_timeout=10 host=::1 port=5439 sslmode=disable",
	},
	// IAM login, every form.
	{
		name: "url/iam: cluster and region from the host, user as DbUser",
		dsn:  "postgres://etl:pw@etl-prod.c9abcdefgh.us-east-1.redshift.amazonaws.com:5439/dev?sslmode=require&iam=true&db_groups=loaders,%20readers&auto_create=1&KeepAlivesIdle=200",
		form: FormURL,
		cfg:  Config{Idle: 200 * time.Second, Keys: keys(Idle, "KeepAlivesIdle")},
		rest: "postgres://etl:pw@etl-prod.c9abcdefgh.us-east-1.redshift.amazonaws.com:5439/dev?sslmode=require",
		iam:  &IAM{ClusterID: "etl-prod", Region: "us-east-1", DbUser: "etl", DbGroups: []string{"loaders", "readers"}, AutoCreate: true, DbName: "dev"},
	},
	{
		name: "url/iam: redshift_connector names, any case",
		dsn:  "postgres://h.example/dev?IAM=True&cluster_identifier=c1&REGION=eu-west-1&db_user=u&access_key_id=AKIAEXAMPLE&secret_access_key=s%2Fk+x&session_token=tok&endpoint_url=http%3A%2F%2F127.0.0.1%3A9000&application_name=x",
		form: FormURL,
		rest: "postgres://h.example/dev?sslmode=verify-ca&application_name=x",
		iam: &IAM{ClusterID: "c1", Region: "eu-west-1", DbUser: "u", AccessKeyID: "AKIAEXAMPLE",
			SecretAccessKey: "s/k+x", SessionToken: "tok", EndpointURL: "http://127.0.0.1:9000", DbName: "dev", CustomDomain: "h.example"},
	},
	{
		name: "url/iam: serverless workgroup from the host, user parameter",
		dsn:  "postgres://wg1.123456789012.eu-central-1.redshift-serverless.amazonaws.com:5439/dev?iam=1&user=admin",
		form: FormURL,
		rest: "postgres://wg1.123456789012.eu-central-1.redshift-serverless.amazonaws.com:5439/dev?sslmode=verify-ca&user=admin",
		iam:  &IAM{Workgroup: "wg1", Region: "eu-central-1", DbUser: "admin", DbName: "dev"},
	},
	{
		name:    "url/no iam: IAM keys dropped and listed",
		dsn:     "postgres://h/dev?iam=false&cluster_identifier=c1&a=b&serverless_acct_id=1",
		form:    FormURL,
		rest:    "postgres://h/dev?a=b",
		ignored: []string{"serverless_acct_id", "iam", "cluster_identifier"},
	},
	{
		name: "kv/iam: workgroup given, IAMDuration",
		dsn:  "host=h.example port=5439 dbname=dev user=etl password=Hunter2X iam=yes serverless_work_group=wg region=us-west-2 IAMDuration=1800",
		form: FormKeyValue,
		rest: "sslmode=verify-ca host=h.example port=5439 dbname=dev user=etl password=Hunter2X",
		iam:  &IAM{Workgroup: "wg", Region: "us-west-2", DbUser: "etl", DurationSeconds: 1800, DbName: "dev", CustomDomain: "h.example"},
	},
	{
		name: "kv/iam: db_user over user, region given over the host's",
		dsn:  "host=c.x.ap-south-1.redshift.amazonaws.com user=etl db_user=loader iam=on Region=ap-south-2 db_groups=' a ,, b '",
		form: FormKeyValue,
		rest: "sslmode=verify-ca host=c.x.ap-south-1.redshift.amazonaws.com user=etl",
		iam:  &IAM{ClusterID: "c", Region: "ap-south-2", DbUser: "loader", DbGroups: []string{"a", "b"}},
	},
	{
		name:    "odbc/IAM=1 as Amazon documents it",
		dsn:     "Driver={Amazon Redshift (x64)};Server=etl-prod.c9abc.us-east-1.redshift.amazonaws.com;Database=dev;IAM=1;DbUser=etl;DbGroups=loaders, readers;AutoCreate=1;Profile=etl;KeepAlivesIdle=200",
		form:    FormODBC,
		cfg:     Config{Idle: 200 * time.Second, Keys: keys(Idle, "KeepAlivesIdle")},
		rest:    "sslmode=verify-ca host=etl-prod.c9abc.us-east-1.redshift.amazonaws.com dbname=dev port=5439",
		ignored: []string{"Driver"},
		iam:     &IAM{ClusterID: "etl-prod", Region: "us-east-1", DbUser: "etl", DbGroups: []string{"loaders", "readers"}, AutoCreate: true, Profile: "etl", DbName: "dev"},
	},
	{
		name: "odbc/IAM=1 with static keys, braced secret, UID as DbUser",
		dsn:  "Server=h;Database=dev;IAM=1;ClusterID=c1;Region=us-east-1;AccessKeyID=AKIAEXAMPLE;SecretAccessKey={a;b}}c};SessionToken=tok;EndpointUrl=http://127.0.0.1:9;IAMDuration=900;UID=etl",
		form: FormODBC,
		rest: "sslmode=verify-ca host=h dbname=dev user=etl port=5439",
		iam: &IAM{ClusterID: "c1", Region: "us-east-1", AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "a;b}c",
			SessionToken: "tok", EndpointURL: "http://127.0.0.1:9", DurationSeconds: 900, DbUser: "etl", DbName: "dev", CustomDomain: "h"},
	},
	{
		name:    "odbc/IAM=1 serverless, keys redshift-ka has no use for",
		dsn:     "Server=h;IAM=1;Workgroup=wg;Serverless=1;AuthType=Profile;Profile=p;Region=r",
		form:    FormODBC,
		rest:    "sslmode=verify-ca host=h port=5439",
		ignored: []string{"AuthType"},
		iam:     &IAM{Workgroup: "wg", Region: "r", Profile: "p", Serverless: true, CustomDomain: "h"},
	},
	{
		name: "odbc/IAM=1: an empty value is absent",
		dsn:  "Server=10.1.2.3;IAM=1;ClusterID=;cluster_identifier=c;AutoCreate=;IAMDuration= ;DbGroups=;DbUser=;group_federation=1",
		form: FormODBC,
		rest: "sslmode=verify-ca host=10.1.2.3 port=5439",
		iam:  &IAM{ClusterID: "c", GroupFederation: true},
	},
	{
		name: "jdbc/iam scheme",
		dsn:  "jdbc:redshift:iam://etl-prod.c9abc.us-east-1.redshift.amazonaws.com:5439/dev?DbUser=etl&DbGroups=loaders&AutoCreate=true&IAMDuration=3600&Profile=etl&user=ignored",
		form: FormJDBC,
		rest: "host=etl-prod.c9abc.us-east-1.redshift.amazonaws.com port=5439 dbname=dev user=ignored sslmode=verify-ca",
		iam:  &IAM{ClusterID: "etl-prod", Region: "us-east-1", DbUser: "etl", DbGroups: []string{"loaders"}, AutoCreate: true, DurationSeconds: 3600, Profile: "etl", DbName: "dev"},
	},
	{
		name:    "jdbc/IAMAuth, serverless keys, secrets %-escaped",
		dsn:     "jdbc:redshift://h.example/dev?IAMAuth=true&serverlessWorkGroup=wg&Region=us-east-2&AccessKeyID=AKIAEXAMPLE&SecretAccessKey=s%2Bk+x&SessionToken=t;isServerless=true&serverlessAcctId=123&UID=etl",
		form:    FormJDBC,
		rest:    "host=h.example port=5439 dbname=dev user=etl sslmode=verify-ca",
		ignored: []string{"serverlessAcctId"},
		iam: &IAM{Workgroup: "wg", Region: "us-east-2", AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "s+k x", SessionToken: "t", DbUser: "etl",
			Serverless: true, DbName: "dev", CustomDomain: "h.example"},
	},
	// IAM without a host: the endpoint is looked up.
	{
		name: "kv/iam: no host",
		dsn:  "dbname=dev iam=1 cluster_identifier=etl-prod db_user=etl region=eu-west-1",
		form: FormKeyValue,
		rest: "sslmode=verify-ca host=etl-prod.invalid dbname=dev",
		iam:  &IAM{ClusterID: "etl-prod", Region: "eu-west-1", DbUser: "etl", DbName: "dev", LookupEndpoint: true},
	},
	{
		name: "url/iam: no host, serverless",
		dsn:  "postgres:///dev?iam=true&serverless_work_group=wg&sslmode=require",
		form: FormURL,
		rest: "postgres:///dev?host=wg.invalid&sslmode=require",
		iam:  &IAM{Workgroup: "wg", DbName: "dev", LookupEndpoint: true},
	},
	{
		name: "odbc/IAM=1: no Server",
		dsn:  "Driver={Amazon Redshift (x64)};Database=dev;IAM=1;ClusterID=etl-prod;DbUser=etl",
		form: FormODBC,
		rest: "sslmode=verify-ca host=etl-prod.invalid dbname=dev port=5439", ignored: []string{"Driver"},
		iam: &IAM{ClusterID: "etl-prod", DbUser: "etl", DbName: "dev", LookupEndpoint: true},
	},
	{
		name: "jdbc/iam cluster:region",
		dsn:  "jdbc:redshift:iam://etl-prod:us-west-2/dev?DbUser=etl&ClusterID=etl-prod",
		form: FormJDBC,
		rest: "host=etl-prod.invalid dbname=dev sslmode=verify-ca",
		iam:  &IAM{ClusterID: "etl-prod", Region: "us-west-2", DbUser: "etl", DbName: "dev", LookupEndpoint: true},
	},
	// group_federation, ForceLowercase, the HTTPS proxy, Amazon's keys.
	{
		name: "kv/iam: group_federation, force_lowercase, custom domain",
		dsn:  "host=db.example.com dbname=dev iam=1 group_federation=true force_lowercase=1 db_groups=Loaders,READERS",
		form: FormKeyValue,
		rest: "sslmode=verify-ca host=db.example.com dbname=dev",
		iam:  &IAM{GroupFederation: true, ForceLowercase: true, DbGroups: []string{"loaders", "readers"}, DbName: "dev", CustomDomain: "db.example.com"},
	},
	{
		name: "jdbc/groupFederation, ForceLowercase, Amazon's keys dropped",
		dsn:  "jdbc:redshift:iam://10.0.0.5:5439/dev?groupFederation=true&ClusterID=c&ForceLowercase=true&loginTimeout=30&socketTimeout=0&isServerless=false",
		form: FormJDBC, ignored: []string{"socketTimeout"},
		rest: "connect_timeout=30 host=10.0.0.5 port=5439 dbname=dev sslmode=verify-ca",
		iam:  &IAM{ClusterID: "c", GroupFederation: true, ForceLowercase: true, DbName: "dev"},
	},
	{
		name: "odbc/IAM=1: HTTPS proxy, ODBC-only keys dropped",
		dsn:  "Server=10.0.0.5;Database=dev;IAM=1;ClusterID=c;DbUser=u;https_proxy_host=proxy.corp;https_proxy_port=3128;https_proxy_username=pu;https_proxy_password={p;w};vpc_endpoint_url=https://vpce.example;CaPath=/etc/ssl;principal_arn=x;LoginTimeout=5;EndpointUrl=https://ak:sk@api.example",
		form: FormODBC, ignored: []string{"vpc_endpoint_url", "CaPath", "principal_arn"},
		rest: "sslmode=verify-ca connect_timeout=5 host=10.0.0.5 dbname=dev port=5439",
		iam: &IAM{ClusterID: "c", DbUser: "u", DbName: "dev", HTTPSProxyHost: "proxy.corp", HTTPSProxyPort: 3128,
			HTTPSProxyUser: "pu", HTTPSProxyPassword: "p;w", EndpointURL: "https://ak:sk@api.example"},
	},
	{
		name: "url/no iam: Amazon's keys dropped too",
		dsn:  "postgres://h/dev?https_proxy_host=p&https_proxy_password=Hunter2X&ProxyPwd=Hunter2X&QueryTimeout=0&a=b",
		form: FormURL, ignored: []string{"ProxyPwd", "QueryTimeout", "https_proxy_host", "https_proxy_password"},
		rest: "postgres://h/dev?a=b",
	},
	// Amazon's keep-alive and timeout keys (amazonTable).
	{
		name: "jdbc/TCPKeepAliveMinutes in minutes, loginTimeout as connect_timeout",
		dsn:  "jdbc:redshift://h:5439/dev?TCPKeepAlive=true&TCPKeepAliveMinutes=3&loginTimeout=20&socketTimeout=0",
		form: FormJDBC, ignored: []string{"socketTimeout"},
		cfg:  Config{Idle: 180 * time.Second, Keys: keys(KeepAlive, "TCPKeepAlive", Idle, "TCPKeepAliveMinutes")},
		rest: "connect_timeout=20 host=h port=5439 dbname=dev sslmode=verify-ca",
	},
	{
		name: "odbc/LT as connect_timeout, QueryTimeout=0 dropped",
		dsn:  "Server=h;Database=dev;LT=15;QueryTimeout=0;KeepAliveIdle=60",
		form: FormODBC, ignored: []string{"QueryTimeout"},
		cfg:  Config{Idle: 60 * time.Second, Keys: keys(Idle, "KeepAliveIdle")},
		rest: "connect_timeout=15 host=h dbname=dev port=5439",
	},
	{
		name: "kv/redshift_connector's keys, server parameters close to ours pass",
		dsn:  "host=h tcp_keepalive=true tcp_keepalive_idle=60 tcp_keepalive_interval=10 tcp_keepalive_count=3 timeout=0 search_path=etl statement_timeout=0 tcp_keepalives_idle=30 TimeZone=UTC",
		form: FormKeyValue, ignored: []string{"timeout"},
		cfg: Config{Idle: 60 * time.Second, Interval: 10 * time.Second, Count: 3,
			Keys: keys(KeepAlive, "tcp_keepalive", Idle, "tcp_keepalive_idle", Interval, "tcp_keepalive_interval", Count, "tcp_keepalive_count")},
		rest: "host=h search_path=etl statement_timeout=0 tcp_keepalives_idle=30 TimeZone=UTC",
	},
	{
		name: "url/LoginTimeout agreeing with connect_timeout",
		dsn:  "postgres://h/db?connect_timeout=5&LoginTimeout=5&application_name=etl",
		form: FormURL,
		rest: "postgres://h/db?connect_timeout=5&application_name=etl",
	},
	{
		name: "kv/user timeout thought in seconds warns",
		dsn:  "host=h tcp_user_timeout=300",
		form: FormKeyValue,
		cfg: Config{UserTimeout: 300 * time.Millisecond, Keys: keys(UserTimeout, "tcp_user_timeout"),
			Warnings: []string{"tcp_user_timeout=300 is 300 ms, under a second: its unit is milliseconds (tcp_user_timeout=300000 for 300 s)"}},
		rest: "host=h",
	},
	{
		name: "url/user timeout under idle + interval x count warns",
		dsn:  "postgres://h/db?KeepAlivesIdle=10&KeepAlivesInterval=5&KeepAlivesCount=3&tcp_user_timeout=20000",
		form: FormURL,
		cfg: Config{Idle: 10 * time.Second, Interval: 5 * time.Second, Count: 3, UserTimeout: 20 * time.Second,
			Keys:     keys(Idle, "KeepAlivesIdle", Interval, "KeepAlivesInterval", Count, "KeepAlivesCount", UserTimeout, "tcp_user_timeout"),
			Warnings: []string{"tcp_user_timeout=20000 is under idle + interval x count (25 s): it may end a connection that keep-alive probes would keep; set it to 0 or above 25000"}},
		rest: "postgres://h/db",
	},
	{
		name: "url/user timeout above idle + interval x count: no warning",
		dsn:  "postgres://h/db?KeepAlivesIdle=10&KeepAlivesInterval=5&KeepAlivesCount=3&tcp_user_timeout=30000",
		form: FormURL,
		cfg: Config{Idle: 10 * time.Second, Interval: 5 * time.Second, Count: 3, UserTimeout: 30 * time.Second,
			Keys: keys(Idle, "KeepAlivesIdle", Interval, "KeepAlivesInterval", Count, "KeepAlivesCount", UserTimeout, "tcp_user_timeout")},
		rest: "postgres://h/db",
	}}

// ignoredNames returns the keys of ignored, as written.
func ignoredNames(ignored []IgnoredKey) []string {
	var names []string
	for _, k := range ignored {
		names = append(names, k.Key)
	}
	return names
}

func TestParse(t *testing.T) {
	for _, tc := range testDSNs {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.dsn)
			require.NoError(t, err)
			assert.Equal(t, tc.form, got.Form)
			assert.Equal(t, tc.ignored, ignoredNames(got.Config.Ignored))
			got.Config.Ignored = nil
			assert.Equal(t, tc.cfg, got.Config)
			assert.Equal(t, tc.rest, got.Rest)
			assert.Equal(t, tc.iam, got.IAM)
		})
	}
}

// badCase is a DSN that must be refused at parse time.
type badCase struct {
	name string
	dsn  string
	kind error
	msg  string // the whole message, or a part of it when it ends in "..."
}

var badDSNs = []badCase{
	// A key close to one of ours, in every form.
	{"url/misspelt key", "postgres://u:Hunter2X@h/db?KeepAliveIdel=200", ErrUnknownKey, `redshift-ka: KeepAliveIdel: unknown key; did you mean KeepAlivesIdle?`},
	{"kv/misspelt key", "host=h password=Hunter2X keepalive_idel=5", ErrUnknownKey, `redshift-ka: keepalive_idel: unknown key; did you mean KeepAlivesIdle?`},
	{"odbc/misspelt key", "Server=h;PWD=Hunter2X;KeepAliveIntervl=5", ErrUnknownKey, `redshift-ka: KeepAliveIntervl: unknown key; did you mean KeepAlivesInterval?`},
	{"jdbc/misspelt key", "jdbc:redshift://h/dev?password=Hunter2X&TCPKeepAliveMinute=3", ErrUnknownKey, `redshift-ka: TCPKeepAliveMinute: unknown key; did you mean TCPKeepAliveMinutes?`},
	{"url/misspelt IAM key", "postgres://u:Hunter2X@h/db?iam=1&cluster_identifer=c", ErrUnknownKey, `redshift-ka: cluster_identifer: unknown key; did you mean cluster_identifier?`},
	// Amazon's time limits that would end a long COPY.
	{"jdbc/socketTimeout", "jdbc:redshift://h/dev?password=Hunter2X&socketTimeout=300", ErrNotSupported, `redshift-ka: socketTimeout: want 0 or no key: a time limit on each read or statement ends a long COPY or UNLOAD on a healthy connection; redshift-ka notices a dead path with keep-alive (KeepAlivesIdle, KeepAlivesInterval, KeepAlivesCount) instead; got "300"`},
	{"url/redshift_connector timeout", "postgres://u:Hunter2X@h/db?timeout=30", ErrNotSupported, `redshift-ka: timeout: want 0 or no key: ...`},
	{"odbc/QT", "Server=h;PWD=Hunter2X;QT=60", ErrNotSupported, `redshift-ka: QT: want 0 or no key: ...`},
	{"jdbc/TCPKeepAliveMinutes over range", "jdbc:redshift://h/dev?password=Hunter2X&TCPKeepAliveMinutes=600", ErrRange, `redshift-ka: TCPKeepAliveMinutes: want whole minutes 0..546, got "600"`},
	{"kv/LoginTimeout against connect_timeout", "host=h password=Hunter2X connect_timeout=5 LoginTimeout=10", ErrConflict, `redshift-ka: LoginTimeout: conflicts with connect_timeout: both set connect_timeout, to different values`},
	{"kv/LoginTimeout against a connect_timeout that runs on", "host=h connect_timeout='5 password=Hunter2X' LoginTimeout=10", ErrConflict, `redshift-ka: LoginTimeout: conflicts with connect_timeout: both set connect_timeout, to different values`},
	// Error texts.
	{"redshift:// scheme", "redshift://u:Hunter2X@h:5439/dev", ErrMalformed, `redshift-ka: unknown DSN scheme "redshift://"; want postgres:// or postgresql:// (a URL), jdbc:redshift:// or jdbc:redshift:iam:// (Amazon's JDBC URL), libpq's key=value or an ODBC string`},
	{"jdbc:postgresql:// scheme", "jdbc:postgresql://h:5432/db?password=Hunter2X", ErrMalformed, `redshift-ka: unknown DSN scheme "jdbc:postgresql://"; want ...`},
	{"odbc/Port=abc named as written", "Server=h;PWD=Hunter2X;Port=abc", ErrSyntax, `redshift-ka: Port: want a port 1..65535, or a comma-separated list of them, got "abc"`},
	{"kv/a key set twice", "host=h password=Hunter2X keepalives_idle=5 keepalives_idle=6", ErrConflict, `redshift-ka: keepalives_idle: set twice, to "5" and "6"`},
	{"odbc/a libpq key set twice", "Server=h;PWD=Hunter2X;Database=a;database=b", ErrConflict, `redshift-ka: database: set twice, to different values`},
	{"url/: and / in the password", "postgres://me:Hun:ter/2X@h:5439/dev", ErrMalformed, `redshift-ka: malformed URL DSN: invalid port (withheld) after host; if the user name or password holds a '@', ':', '/', '?', '#' or '%', %-encode it (%40, %3A, %2F, %3F, %23, %25)`},
	{"url/not a number", "postgres://u:Hunter2X@h/db?KeepAlivesIdle=abc", ErrSyntax, `redshift-ka: KeepAlivesIdle: want whole seconds 0..32767, got "abc"`},
	{"url/negative", "postgres://u:Hunter2X@h/db?keepalives_interval=-5", ErrSyntax, `redshift-ka: keepalives_interval: want whole seconds 0..32767, got "-5"`},
	{"url/fraction", "postgres://u:Hunter2X@h/db?KeepAlivesIdle=1.5", ErrSyntax, `redshift-ka: KeepAlivesIdle: want whole seconds 0..32767, got "1.5"`},
	{"url/over range", "postgres://u:Hunter2X@h/db?KeepAlivesIdle=32768", ErrRange, `redshift-ka: KeepAlivesIdle: want whole seconds 0..32767, got "32768"`},
	{"url/overflow", "postgres://u:Hunter2X@h/db?KeepAlivesCount=99999999999999999999999", ErrRange, `redshift-ka: KeepAlivesCount: want a whole number of probes 0..127, got "99999999999999999999999"`},
	{"url/count over 127", "postgres://u:Hunter2X@h/db?tcp_keepalive_count=128", ErrRange, `redshift-ka: tcp_keepalive_count: want a whole number of probes 0..127, got "128"`},
	{"url/user timeout overflow", "postgres://u:Hunter2X@h/db?tcp_user_timeout=2147483648", ErrRange, `redshift-ka: tcp_user_timeout: want whole milliseconds 0..2147483647, got "2147483648"`},
	{"url/bad bool", "postgres://u:Hunter2X@h/db?keepalives=2", ErrSyntax, `redshift-ka: keepalives: want 1/0, true/false, on/off or yes/no, got "2"`},
	{"url/empty value", "postgres://u:Hunter2X@h/db?KeepAlivesIdle=", ErrSyntax, `redshift-ka: KeepAlivesIdle: want whole seconds 0..32767, got ""`},
	{"url/conflict", "postgres://u:Hunter2X@h/db?KeepAlivesIdle=200&keepalives_idle=300", ErrConflict, `redshift-ka: keepalives_idle: conflicts with KeepAlivesIdle=200: both set KeepAlivesIdle`},
	{"url/? in user info", "postgres://Hunter2X?@h/db?KeepAlivesIdle=5", ErrMalformed, `redshift-ka: malformed URL DSN: a "?" before the "@" that ends the user info; write it as %3F`},
	// url.Parse refuses this one too ("invalid port"): the hint comes first.
	{"url/? in password before a port", "postgres://me:Hunter2X?x@h:5439/dev", ErrMalformed, `redshift-ka: malformed URL DSN: a "?" before the "@" that ends the user info; write it as %3F`},
	{"url/fragment in a value of ours", "postgres://u:Hunter2X@h/db?KeepAlivesIdle=5#Hunter2X", ErrSyntax, `redshift-ka: KeepAlivesIdle: want whole seconds 0..32767, got a value of 10 bytes (withheld: it may hold more of the DSN)`},
	{"kv/escaped space runs into the password", `keepalives_idle=5\ password=Hunter2X host=h`, ErrSyntax, `redshift-ka: keepalives_idle: want whole seconds 0..32767, got a value of 19 bytes (withheld: it may hold more of the DSN)`},
	{"kv/ODBC key", "host=h password=Hunter2X server=x", ErrSyntax, `redshift-ka: server: a key only ODBC reads, in a key=value DSN; write libpq's key, or the whole DSN in the ODBC form`},
	{"kv/non-ASCII white space", "host=h\u00a0keepalives_idle=5 password=Hunter2X", ErrMalformed, `redshift-ka: malformed key=value DSN: white space other than ASCII in the unquoted value of key "host" at offset 6; quote the value`},
	{"url/bad port", "postgres://u:Hunter2X@h:abc/db", ErrMalformed, `redshift-ka: malformed URL DSN: invalid port (withheld) after host; if the user name or password holds a '@', ':', '/', '?', '#' or '%', %-encode it (%40, %3A, %2F, %3F, %23, %25)`},
	{"url/slash in password", "postgres://u:Hun/ter2X@h/db", ErrMalformed, `redshift-ka: malformed URL DSN: invalid port (withheld) after host; if the user name or password holds a '@', ':', '/', '?', '#' or '%', %-encode it (%40, %3A, %2F, %3F, %23, %25)`},
	{"url/control character", "postgres://u:Hunter2X@h/db?application_name=a\tb", ErrMalformed, `redshift-ka: malformed URL DSN: a control character; write it %-escaped`},
	// url.Parse takes this one, but with the key stripped the NUL would
	// come before the '#'.
	{"url/control character after #", "postgres://u:Hunter2X@h/db?https_proxy_password=#&\x00", ErrMalformed, `redshift-ka: malformed URL DSN: a control character; write it %-escaped`},
	{"url/bad escape", "postgres://u:Hun%zzter2X@h/db", ErrMalformed, `redshift-ka: malformed URL DSN: invalid %-escape; if the user name...`},
	{"kv/unterminated quote", "host=h password='Hunter2X keepalives=1", ErrMalformed, `redshift-ka: malformed key=value DSN: unterminated quoted value of key "password"`},
	{"kv/missing =", "host=h Hunter2X", ErrMalformed, `redshift-ka: malformed key=value DSN: missing "=" after the word at offset 7`},
	{"kv/missing key", "host=h =Hunter2X", ErrMalformed, `redshift-ka: malformed key=value DSN: missing key before "=" at offset 7`},
	{"kv/invalid key", "host=h Hun;ter2X=1", ErrMalformed, `redshift-ka: malformed key=value DSN: invalid key at offset 7`},
	{"kv/bad idle", "host=h password=Hunter2X keepalives_idle=1e3", ErrSyntax, `redshift-ka: keepalives_idle: want whole seconds 0..32767, got "1e3"`},
	{"odbc/bad count", "Server=h;PWD=Hunter2X;KeepAliveCount=-1", ErrSyntax, `redshift-ka: KeepAliveCount: want a whole number of probes 0..127, got "-1"`},
	{"odbc/unterminated brace", "Server=h;PWD={Hunter2X;KeepAlive=1", ErrMalformed, `redshift-ka: malformed ODBC DSN: unterminated {…} value of key "PWD"`},
	{"odbc/missing =", "Server=h;Hunter2X;Port=1", ErrMalformed, `redshift-ka: malformed ODBC DSN: missing "=" in the attribute at offset 9`},
	{"odbc/text after brace", "Server=h;PWD={Hun}ter2X;Port=1", ErrMalformed, `redshift-ka: malformed ODBC DSN: text after the closing "}" of key "PWD"`},
	{"odbc/two passwords", "Server=h;PWD=Hunter2X;Password=other", ErrConflict, `redshift-ka: Password: conflicts with PWD: both set password`},
	{"odbc/conflicting spellings", "Server=h;PWD=Hunter2X;KeepAlivesIdle=1;KeepAliveIdle=2", ErrConflict, `redshift-ka: KeepAliveIdle: conflicts with KeepAlivesIdle=1: both set KeepAlivesIdle`},

	// JDBC form.
	{"jdbc/no //", "jdbc:redshift:dev?password=Hunter2X", ErrMalformed, `redshift-ka: malformed JDBC DSN: want jdbc:redshift://host:port/database or jdbc:redshift:iam://host:port/database`},
	{"jdbc/user info", "jdbc:redshift://u:Hunter2X@h/dev", ErrMalformed, `redshift-ka: malformed JDBC DSN: user info before an "@" in the host; give user and password as parameters`},
	{"jdbc/bad port", "jdbc:redshift://h:54x/dev?password=Hunter2X", ErrMalformed, `redshift-ka: malformed JDBC DSN: invalid port of host 1; want 1..65535`},
	{"jdbc/port 0", "jdbc:redshift://h:5439,h2:0/dev?password=Hunter2X", ErrMalformed, `redshift-ka: malformed JDBC DSN: invalid port of host 2; want 1..65535`},
	{"jdbc/missing host", "jdbc:redshift://:5439/dev?password=Hunter2X", ErrMalformed, `redshift-ka: malformed JDBC DSN: missing host 1`},
	{"jdbc/bad key", "jdbc:redshift://h/dev?user=u;Hun%ter2X", ErrMalformed, `redshift-ka: malformed JDBC DSN: invalid key in the query parameter at offset 29`},
	{"jdbc/bad escape", "jdbc:redshift://h/dev?password=Hunter2X%zz", ErrMalformed, `redshift-ka: malformed JDBC DSN: invalid %-escape in the query parameter at offset 22`},
	{"jdbc/bad escape in a key of ours", "jdbc:redshift://h/dev?password=Hunter2X&SecretAccessKey=Hunter2X%zz", ErrSyntax, `redshift-ka: SecretAccessKey: invalid %-escape in a value of 11 bytes (withheld: a secret)`},
	{"url/bad escape in a secret of ours", "postgres://h/db?iam=1&session_token=Hun%zz", ErrSyntax, `redshift-ka: session_token: invalid %-escape in a value of 6 bytes (withheld: a secret)`},
	{"jdbc/bad ssl", "jdbc:redshift://h/dev?ssl=maybe&password=Hunter2X", ErrSyntax, `redshift-ka: ssl: want 1/0, true/false, on/off or yes/no or nothing, got "maybe"`},
	{"jdbc/two users", "jdbc:redshift://h/dev?user=a&UID=b&password=Hunter2X", ErrConflict, `redshift-ka: UID: conflicts with user: both set user`},
	{"jdbc/host parameter against the URL's", "jdbc:redshift://h/dev?HOST=h2&password=Hunter2X", ErrConflict, `redshift-ka: HOST: conflicts with jdbc:redshift://host: both set host`},
	{"jdbc/cluster:region without a user", "jdbc:redshift:iam://etl-prod:us-east-1/dev?password=Hunter2X", ErrMissing, `redshift-ka: jdbc:redshift:iam: IAM login to a provisioned cluster needs DbUser ...`},
	{"jdbc/cluster:region and another cluster", "jdbc:redshift:iam://etl-prod:us-east-1/dev?ClusterID=other&DbUser=u&password=Hunter2X", ErrConflict, `redshift-ka: ClusterID: conflicts with jdbc:redshift:iam://cluster: both set ClusterID`},
	{"odbc/Profile with keys", "Server=10.0.0.1;IAM=1;ClusterID=c;DbUser=u;Profile=p;AccessKeyID=AKIAEXAMPLE;SecretAccessKey=Hunter2X", ErrConflict, `redshift-ka: AccessKeyID: conflicts with Profile: give AWS credentials either as a profile or as keys, as Amazon's JDBC driver requires`},
	{"jdbc/Profile with keys", "jdbc:redshift:iam://c.x.us-east-1.redshift.amazonaws.com/dev?DbUser=u&Profile=p&AccessKeyID=AKIAEXAMPLE&SecretAccessKey=Hunter2X", ErrConflict, `redshift-ka: AccessKeyID: conflicts with Profile: ...`},
	{"odbc/cluster without a user", "Server=10.0.0.1;IAM=1;ClusterID=c;PWD=Hunter2X", ErrMissing, `redshift-ka: IAM: IAM login to a provisioned cluster needs DbUser (db_user, or the DSN's user) for GetClusterCredentials, or group_federation=true for GetClusterCredentialsWithIAM as the IAM identity's own user`},
	{"kv/no host, no cluster", "iam=1 db_user=u password=Hunter2X", ErrMissing, `redshift-ka: iam: IAM login without a host needs ClusterID (cluster_identifier) or Workgroup (serverless_work_group) to look the endpoint up`},
	{"odbc/proxy without a port", "Server=10.0.0.1;IAM=1;ClusterID=c;DbUser=u;https_proxy_host=proxy;https_proxy_password=Hunter2X", ErrMissing, `redshift-ka: https_proxy_host: a proxy needs https_proxy_port too`},
	{"odbc/proxy password without a host", "Server=10.0.0.1;IAM=1;ClusterID=c;DbUser=u;https_proxy_password=Hunter2X", ErrMissing, `redshift-ka: https_proxy_password: goes with https_proxy_host, which is not given`},
	{"url/proxy port out of range", "postgres://u:Hunter2X@10.0.0.1/db?iam=1&ClusterID=c&https_proxy_host=p&https_proxy_port=70000", ErrRange, `redshift-ka: https_proxy_port: want a port 1..65535, got "70000"`},

	// IAM login.
	{"odbc/plugin refused", "Server=h;IAM=1;plugin_name=Shibboleth;PWD=Hunter2X", ErrNotSupported, `redshift-ka: plugin_name: identity-provider plugin Shibboleth is not supported; supported: with IAM=1: AdfsCredentialsProvider (ODBC: ADFS), OktaCredentialsProvider (Okta), PingCredentialsProvider (Ping), AzureCredentialsProvider (AzureAD), BasicSamlCredentialsProvider, BrowserSamlCredentialsProvider (BrowserSAML), BrowserAzureCredentialsProvider (BrowserAzureAD), JwtIamAuthPlugin; natively: BasicJwtCredentialsProvider (JWT), BrowserAzureOAuth2CredentialsProvider (BrowserAzureADOAuth2), IdpTokenAuthPlugin, BrowserIdcAuthPlugin; or log in with IAM credentials (AccessKeyID and SecretAccessKey, Profile, or the AWS SDK's default chain) or a password`},
	{"odbc/plugin key without a plugin", "Server=h;idp_host=adfs.example;PWD=Hunter2X", ErrMissing, `redshift-ka: idp_host: goes with plugin_name (credentials_provider) set to a plugin that reads it: AdfsCredentialsProvider, OktaCredentialsProvider, PingCredentialsProvider`},
	{"url/credentials_provider without iam: no IAM", "postgres://u:Hunter2X@h/db?credentials_provider=OktaCredentialsProvider&idp_host=o.example&app_id=a", ErrMissing, `redshift-ka: credentials_provider: OktaCredentialsProvider logs in through IAM: add IAM=1 (iam=true), as Amazon's drivers require`},
	{"kv/preferred_role without a plugin", "host=h iam=1 password=Hunter2X preferred_role=arn:aws:iam::1:role/r", ErrMissing, `redshift-ka: preferred_role: goes with plugin_name (credentials_provider) set to a plugin that reads it: AdfsCredentialsProvider, AzureCredentialsProvider, BasicSamlCredentialsProvider, BrowserAzureCredentialsProvider, BrowserSamlCredentialsProvider, OktaCredentialsProvider, PingCredentialsProvider`},
	{"jdbc/Plugin_Name refused", "jdbc:redshift:iam://c.x.us-east-1.redshift.amazonaws.com/dev?Plugin_Name=com.amazon.redshift.plugin.BrowserOktaSAMLCredentialsProvider&password=Hunter2X", ErrNotSupported, `redshift-ka: Plugin_Name: identity-provider plugin com.amazon.redshift.plugin.BrowserOktaSAMLCredentialsProvider is not supported; ...`},
	{"kv/AuthProfile refused", "host=h iam=1 password=Hunter2X AuthProfile=p", ErrNotSupported, `redshift-ka: AuthProfile: not supported (an authentication profile, or an attribute of a SAML assertion); give the connection's keys in the DSN`},
	{"kv/iam without a cluster", "host=10.0.0.1 iam=1 password=Hunter2X", ErrMissing, `redshift-ka: iam: IAM login needs ClusterID (cluster_identifier) for a provisioned cluster or Workgroup (serverless_work_group) for Redshift Serverless, or a host name <cluster>.<id>.<region>.redshift.amazonaws.com or <workgroup>.<account>.<region>.redshift-serverless.amazonaws.com to take them from, or a custom domain name`},
	// pgx reads both hosts as a Unix socket's directory: not a custom domain.
	{"kv/iam to a socket", "host=/run/postgresql iam=1 password=Hunter2X", ErrMissing, `redshift-ka: iam: IAM login needs ClusterID (cluster_identifier) for a provisioned cluster or Workgroup (serverless_work_group) for Redshift Serverless, or a host name <cluster>.<id>.<region>.redshift.amazonaws.com or <workgroup>.<account>.<region>.redshift-serverless.amazonaws.com to take them from, or a custom domain name`},
	{"kv/iam to a socket on a drive", `host='C:\\pg' iam=1 password=Hunter2X`, ErrMissing, `redshift-ka: iam: IAM login needs ClusterID (cluster_identifier) for a provisioned cluster or Workgroup (serverless_work_group) for Redshift Serverless, or a host name <cluster>.<id>.<region>.redshift.amazonaws.com or <workgroup>.<account>.<region>.redshift-serverless.amazonaws.com to take them from, or a custom domain name`},
	{"jdbc/serverless host without a workgroup", "jdbc:redshift:iam://123456789012.us-east-1.redshift-serverless.amazonaws.com/dev?password=Hunter2X", ErrMissing, `redshift-ka: jdbc:redshift:iam: IAM login needs ClusterID ...`},
	{"odbc/bad AutoCreate", "Server=h;IAM=1;ClusterID=c;AutoCreate=maybe;PWD=Hunter2X", ErrSyntax, `redshift-ka: AutoCreate: want 1/0, true/false, on/off or yes/no, got "maybe"`},
	{"url/bad iam", "postgres://u:Hunter2X@h/db?iam=2", ErrSyntax, `redshift-ka: iam: want 1/0, true/false, on/off or yes/no, got "2"`},
	{"jdbc/IAMDuration below 900", "jdbc:redshift:iam://c.x.us-east-1.redshift.amazonaws.com/dev?IAMDuration=899&password=Hunter2X", ErrRange, `redshift-ka: IAMDuration: want whole seconds 900..3600, got "899"`},
	{"kv/IAMDuration above 3600", "host=h iam=1 ClusterID=c IAMDuration=03601 password=Hunter2X", ErrRange, `redshift-ka: IAMDuration: want whole seconds 900..3600, got "03601"`},
	{"kv/IAMDuration huge", "host=h iam=1 ClusterID=c IAMDuration=99999999999999999999 password=Hunter2X", ErrRange, `redshift-ka: IAMDuration: want whole seconds 900..3600, got "99999999999999999999"`},
	{"odbc/IAMDuration not a number", "Server=h;IAM=1;ClusterID=c;IAMDuration=15m;PWD=Hunter2X", ErrSyntax, `redshift-ka: IAMDuration: want whole seconds 900..3600, got "15m"`},
	{"url/two spellings of the cluster", "postgres://u:Hunter2X@h/db?iam=1&ClusterID=a&cluster_identifier=b", ErrConflict, `redshift-ka: cluster_identifier: conflicts with ClusterID: both set ClusterID`},
	{"odbc/two secrets, neither quoted", "Server=h;IAM=1;ClusterID=c;SecretAccessKey=Hunter2X;secret_access_key=ter2X", ErrConflict, `redshift-ka: secret_access_key: conflicts with SecretAccessKey: both set SecretAccessKey`},
	{"kv/cluster and workgroup", "host=h iam=1 ClusterID=c serverless_work_group=w password=Hunter2X", ErrConflict, `redshift-ka: serverless_work_group: conflicts with ClusterID: IAM login is to a provisioned cluster or a serverless workgroup, not both`},
	{"jdbc/iam scheme against IAM=false", "jdbc:redshift:iam://c.x.us-east-1.redshift.amazonaws.com/dev?IAM=false&password=Hunter2X", ErrConflict, `redshift-ka: IAM: conflicts with jdbc:redshift:iam: both set IAM`},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range badDSNs {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.dsn)
			require.Error(t, err)
			assert.Nil(t, got)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.ErrorIs(t, err, tc.kind)
			if prefix, ok := strings.CutSuffix(tc.msg, "..."); ok {
				assert.True(t, strings.HasPrefix(err.Error(), prefix), "message %q", err.Error())
			} else {
				assert.Equal(t, tc.msg, err.Error())
			}
			for _, pw := range []string{"Hunter2X", "Hun", "ter2X", "zz"} {
				assert.NotContains(t, err.Error(), pw, "password leaked")
			}
		})
	}
}

func TestSpecTable(t *testing.T) {
	seen := map[string]bool{}
	for i, k := range Keys() {
		assert.Equal(t, Setting(i), k.Setting)
		assert.Equal(t, k.Names[0], k.Setting.String())
		for _, n := range k.Names {
			assert.False(t, seen[strings.ToLower(n)], "key %s twice", n)
			seen[strings.ToLower(n)] = true
			s, ok := owned(strings.ToUpper(n))
			assert.True(t, ok)
			assert.Equal(t, k.Setting, s)
		}
	}
	_, ok := owned("application_name")
	assert.False(t, ok)
	assert.Equal(t, "Setting(9)", Setting(9).String())
}

func TestFormString(t *testing.T) {
	assert.Equal(t, "URL", FormURL.String())
	assert.Equal(t, "key=value", FormKeyValue.String())
	assert.Equal(t, "ODBC", FormODBC.String())
	assert.Equal(t, "unknown", Form(7).String())
	assert.ErrorIs(t, &ParseError{Err: reason(ErrRange, "x")}, ErrRange)
}

// TestODBCManyAttributes: among many attributes, the ODBC parser keeps
// their order and finds two that set one libpq key.
func TestODBCManyAttributes(t *testing.T) {
	var b strings.Builder
	b.WriteString("Server=h;PWD=Hunter2X")
	for i := range 20 {
		b.WriteString(";k" + strconv.Itoa(i) + "=v")
	}
	d, err := Parse(b.String() + ";Host=h;KeepAlivesIdle=7")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(d.Rest, "host=h password=Hunter2X k0=v k1=v"), d.Rest)
	assert.True(t, strings.HasSuffix(d.Rest, "k19=v port=5439"), d.Rest)
	assert.Equal(t, 7*time.Second, d.Config.Idle)

	_, err = Parse(b.String() + ";Password=other")
	assert.ErrorIs(t, err, ErrConflict)
	assert.EqualError(t, err, "redshift-ka: Password: conflicts with PWD: both set password")
}

// TestKeysIsACopy: changing what Keys returns changes nothing Parse does.
func TestKeysIsACopy(t *testing.T) {
	keys := Keys()
	keys[Idle].Names[0] = "changed"
	keys[Idle].Max = 1
	keys[Count].Names = append(keys[Count].Names[:0], "x")
	got, err := Parse("KeepAlivesIdle=200 KeepAlivesCount=5 host=h")
	require.NoError(t, err)
	assert.Equal(t, 200*time.Second, got.Config.Idle)
	assert.Equal(t, 5, got.Config.Count)
	assert.Equal(t, "KeepAlivesIdle", Keys()[Idle].Names[0])
	assert.Equal(t, "KeepAlivesIdle", Idle.String())
}

// TestDSNPrintsRedacted: however a parsed DSN is printed, the password of
// the part for the backend is masked.
func TestDSNPrintsRedacted(t *testing.T) {
	const pw = `p a's"s #;&?%={}w`
	for _, dsn := range []string{
		"postgres://u:" + url.PathEscape(pw) + "@h/db?KeepAlivesIdle=5",
		"host=h user=u password='" + strings.ReplaceAll(strings.ReplaceAll(pw, `\`, `\\`), "'", `\'`) + "' keepalives_idle=5",
		"Server=h;UID=u;PWD={" + strings.ReplaceAll(pw, "}", "}}") + "};KeepAlivesIdle=5",
	} {
		d, err := Parse(dsn)
		require.NoError(t, err, dsn)
		require.NotEqual(t, d.Rest, Redact(d.Rest), "the backend's DSN has a password to mask")
		outputs := map[string]string{}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			outputs[verb] = fmt.Sprintf(verb, d)
			outputs[verb+" of a pointer"] = fmt.Sprintf(verb, &d)
		}
		outputs["Sprint"] = fmt.Sprint(d)
		b, err := json.Marshal(d)
		require.NoError(t, err)
		outputs["JSON"] = string(b)
		b, err = json.Marshal(&d)
		require.NoError(t, err)
		outputs["JSON of a pointer"] = string(b)
		for how, out := range outputs {
			for _, piece := range []string{pw, "a's", `"s`, "#;&?", "%={}w", url.PathEscape(pw)} {
				assert.NotContains(t, out, piece, "%s of %s", how, d.Form)
			}
		}
		assert.Contains(t, outputs["%+v"], "Rest:", "fields are still shown")
		assert.Contains(t, outputs["%+v"], "xxxxx")
		assert.Contains(t, outputs["JSON"], `"Form":`)
		assert.NotContains(t, d.Rest, "xxxxx", "the field itself is untouched")
	}
}

// TestJDBCTLS: a JDBC URL asks for TLS as Amazon's JDBC driver does: ssl
// is true unless set false (RedshiftProperty.SSL defaults to "true"), and
// AuthMech is its older name for sslmode, in capitals.
func TestJDBCTLS(t *testing.T) {
	for query, want := range map[string]string{
		"":                        "sslmode=verify-ca",
		"?ssl=false":              "sslmode=disable",
		"?ssl=true":               "sslmode=verify-ca",
		"?sslmode=require":        "sslmode=require",
		"?AuthMech=VERIFY-FULL":   "sslmode=verify-full",
		"?AuthMech=DISABLE":       "sslmode=disable",
		"?ssl=true&sslmode=allow": "sslmode=allow",
	} {
		d, err := Parse("jdbc:redshift://h:5439/dev" + query)
		require.NoError(t, err, query)
		assert.Equal(t, "host=h port=5439 dbname=dev "+want, d.Rest, query)
	}
}
