// Package harness is the test harness that proves redshift-ka against real
// parts: a real PostgreSQL server, real kernel sockets, and real network
// namespaces with kernel middleboxes (nftables) between client and server.
//
// It serves the tests in integration and cmd/redshift-ka and the program
// integration/demo. It is internal, so users cannot import it, and nothing in
// the driver imports it.
//
// # Skipping and strict mode
//
// Tests that need something the machine may lack (root, PostgreSQL binaries)
// call [Need] or [NeedRoot]. On a developer machine a missing part skips the
// test; in CI (env CI=true) or with REDSHIFTKA_STRICT=1, see [Strict], it
// fails the test instead, so CI can never pass by skipping.
//
//	func TestSomething(t *testing.T) {
//		harness.NeedRoot(t)
//		pg := harness.StartPostgresT(t, harness.PostgresOptions{})
//		db, err := sql.Open("redshift-ka", pg.URL(""))
//		...
//	}
//
// # PostgreSQL
//
// [StartPostgres] runs a throw-away server (initdb into a fresh temporary
// directory, SCRAM password authentication over TCP, optional TLS) and
// [StartPostgresT] ties it to a test. [Postgres.URL], [Postgres.KeyValue] and
// [Postgres.ODBC] and [Postgres.JDBC] give connection strings in the four DSN
// forms the driver accepts. When run as root the server runs as Debian's "postgres" system
// user, since initdb and postgres refuse to run as root.
//
// # AWS
//
// [StartAWSFake] runs a fake of the Redshift and Redshift Serverless APIs an
// IAM login calls, on loopback, in their real wire formats (the Query
// protocol with XML, JSON 1.1), checking each request's SigV4 signature.
// Each call sets the password it issues on the server's role, VALID UNTIL
// its expiration. [AWSFake.Env] is the environment that points the AWS SDK
// at it and nowhere else (no instance metadata).
//
// # Network namespaces
//
// [NewNetns] creates a network namespace, [Veth] wires two of them together
// and [Netns.Do] runs Go code inside one: sockets created there belong to that
// namespace, so a test can put a client, a kernel middlebox and a server in
// separate namespaces and watch what really happens on the wire.
// [PostgresOptions.Netns] starts the server inside a namespace.
package harness
