//go:build linux

package integration

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// The tests of IAM logins that look something up first: the endpoint of a
// DSN without a host (DescribeClusters, redshift-serverless GetWorkgroup),
// the cluster of a custom domain name (DescribeCustomDomainAssociations);
// and of what every call carries (DbName, lower-cased groups) and how it
// travels (the HTTPS proxy keys).

// hostless writes an IAM DSN without a host, in one form.
type hostless struct {
	name       string
	serverless bool
	dsn        func(pg *harness.Postgres) string
}

var hostlessForms = []hostless{
	{"keyvalue", false, func(pg *harness.Postgres) string {
		return "dbname=" + pg.Database + " sslrootcert=" + pg.CAFile + " iam=true iam_disable_cache=1 cluster_identifier=etl-prod db_user=etl"
	}},
	{"url", false, func(pg *harness.Postgres) string {
		return "postgres:///" + pg.Database + "?sslrootcert=" + pg.CAFile + "&iam=true&iam_disable_cache=1&cluster_identifier=etl-prod&db_user=etl"
	}},
	{"odbc", false, func(pg *harness.Postgres) string {
		return "Driver={Amazon Redshift (x64)};Database=" + pg.Database + ";sslrootcert=" + pg.CAFile + ";IAM=1;DisableCache=1;ClusterID=etl-prod;DbUser=etl"
	}},
	{"jdbc", false, func(pg *harness.Postgres) string {
		// JDBC's own host-less form, jdbc:redshift:iam://cluster:region/db.
		return "jdbc:redshift:iam://etl-prod:us-east-1/" + pg.Database + "?sslrootcert=" + pg.CAFile + "&IAMDisableCache=true&DbUser=etl"
	}},
	{"keyvalue/serverless", true, func(pg *harness.Postgres) string {
		return "dbname=" + pg.Database + " sslrootcert=" + pg.CAFile + " iam=true iam_disable_cache=1 serverless_work_group=etl-wg"
	}},
	{"url/serverless", true, func(pg *harness.Postgres) string {
		return "postgres:///" + pg.Database + "?sslrootcert=" + pg.CAFile + "&iam=true&iam_disable_cache=1&serverless_work_group=etl-wg"
	}},
	{"odbc/serverless", true, func(pg *harness.Postgres) string {
		return "Database=" + pg.Database + ";sslrootcert=" + pg.CAFile + ";IAM=1;DisableCache=1;Workgroup=etl-wg"
	}},
}

// TestIAMNoHost: a DSN without a host, in every form, provisioned and
// Serverless, through both backends, looks the endpoint up once per
// connector (DescribeClusters, GetWorkgroup) and connects there: the
// server's port is the one the fake answered, and three connections make
// one lookup and one credentials call.
func TestIAMNoHost(t *testing.T) {
	pg, fake := iamSetup(t)
	fake.AddCluster("etl-prod", pg.Host, pg.Port)
	fake.AddWorkgroup("etl-wg", pg.Host, pg.Port)
	for _, b := range backends {
		for _, f := range hostlessForms {
			t.Run(b+"/"+f.name, func(t *testing.T) {
				lookup, creds := "DescribeClusters", "GetClusterCredentials"
				if f.serverless {
					lookup, creds = "GetWorkgroup", "GetCredentials"
				}
				before, beforeLookup, beforeCreds := fake.Calls(""), fake.Calls(lookup), fake.Calls(creds)
				db, err := sql.Open(b, f.dsn(pg))
				require.NoError(t, err)
				defer db.Close()
				db.SetMaxIdleConns(0) // each Conn is a new connection
				for range 3 {
					c, err := db.Conn(context.Background())
					require.NoError(t, err)
					var port int
					require.NoError(t, c.QueryRowContext(context.Background(), "SELECT inet_server_port()").Scan(&port))
					assert.Equal(t, pg.Port, port, "the connection went to the endpoint looked up")
					c.Close()
				}
				assert.Equal(t, 1, fake.Calls(lookup)-beforeLookup, "one lookup")
				assert.Equal(t, 1, fake.Calls(creds)-beforeCreds, "one credentials call")
				assert.Equal(t, 2, fake.Calls("")-before, "no other call")
				req := fake.Requests()[before]
				if f.serverless {
					assert.Equal(t, "etl-wg", req.Get("workgroupName"))
				} else {
					assert.Equal(t, "etl-prod", req.Get("ClusterIdentifier"))
				}
			})
		}
	}
	t.Run("not found", func(t *testing.T) {
		db, err := sql.Open(driver.Name, strings.Replace(hostlessForms[0].dsn(pg), "etl-prod", "nope", 1))
		require.NoError(t, err)
		defer db.Close()
		err = db.Ping()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "redshift-ka: DescribeClusters for cluster nope: ClusterNotFound: ")
	})
}

// resolveFake makes the made-up names resolve to the server, for both
// backends, until the test ends (backend.Resolve, the resolver seam); any
// other name does not resolve: no query leaves the machine.
func resolveFake(t *testing.T, names map[string]string) {
	t.Cleanup(func() { backend.Resolve = nil })
	backend.Resolve = func(ctx context.Context, host string) ([]string, error) {
		if ip, ok := names[strings.ToLower(host)]; ok {
			return []string{ip}, nil
		}
		if net.ParseIP(host) != nil {
			return []string{host}, nil
		}
		return nil, &net.DNSError{Err: "no such host (test resolver)", Name: host, IsNotFound: true}
	}
}

// TestIAMCustomDomain: a host that is not a Redshift endpoint's name is a
// custom domain, as Amazon's drivers take it. Provisioned: the cluster
// comes from DescribeCustomDomainAssociations, asked once, and the login
// names the domain (CustomDomainName); an unknown domain with ClusterID
// (a load balancer) logs in with the cluster; Serverless=true without a
// workgroup sends customDomainName, with one the workgroup only.
func TestIAMCustomDomain(t *testing.T) {
	pg, fake := iamSetup(t)
	const domain, nlb, stale = "warehouse.corp.test", "nlb.corp.test", "stale.corp.test"
	fake.AddDomain(domain, "etl-prod")
	fake.AddDomain(stale, "etl-prod")
	fake.RefuseDomain(stale)
	fake.AddDomain("sl."+domain, "etl-wg")
	resolveFake(t, map[string]string{domain: pg.Host, nlb: pg.Host, stale: pg.Host, "sl." + domain: pg.Host})
	kv := func(host, keys string) string {
		return fmt.Sprintf("host=%s port=%d dbname=%s sslrootcert=%s iam=true iam_disable_cache=1 %s", host, pg.Port, pg.Database, pg.CAFile, keys)
	}
	for _, b := range backends {
		t.Run(b+"/provisioned", func(t *testing.T) {
			before := fake.Calls("")
			db, err := sql.Open(b, kv(domain, "db_user=etl"))
			require.NoError(t, err)
			defer db.Close()
			db.SetMaxIdleConns(0)
			for range 2 {
				c, err := db.Conn(context.Background())
				require.NoError(t, err)
				assert.Equal(t, "IAM:etl", currentUser(t, c))
				c.Close()
			}
			reqs := fake.Requests()[before:]
			require.Len(t, reqs, 2, "one lookup, one credentials call")
			assert.Equal(t, "DescribeCustomDomainAssociations", reqs[0].Get("Action"))
			assert.Equal(t, domain, reqs[0].Get("CustomDomainName"))
			assert.Equal(t, "GetClusterCredentials", reqs[1].Get("Action"))
			assert.Equal(t, domain, reqs[1].Get("CustomDomainName"))
			assert.Empty(t, reqs[1].Get("ClusterIdentifier"))
			assert.Equal(t, pg.Database, reqs[1].Get("DbName"))
		})
		t.Run(b+"/provisioned, group federation", func(t *testing.T) {
			before := fake.Calls("")
			_, conn := open(t, b, kv(domain, "group_federation=true"))
			assert.Equal(t, "IAMR:"+harness.FakeRole, currentUser(t, conn))
			reqs := fake.Requests()[before:]
			require.Len(t, reqs, 2)
			assert.Equal(t, "GetClusterCredentialsWithIAM", reqs[1].Get("Action"))
			assert.Equal(t, domain, reqs[1].Get("CustomDomainName"))
		})
		t.Run(b+"/load balancer with ClusterID", func(t *testing.T) {
			before := fake.Calls("")
			_, conn := open(t, b, kv(nlb, "cluster_identifier=etl-prod db_user=etl"))
			assert.Equal(t, "IAM:etl", currentUser(t, conn))
			reqs := fake.Requests()[before:]
			require.Len(t, reqs, 2, "the lookup fails, the login uses the cluster")
			assert.Equal(t, "DescribeCustomDomainAssociations", reqs[0].Get("Action"))
			assert.Equal(t, "GetClusterCredentials", reqs[1].Get("Action"))
			assert.Equal(t, "etl-prod", reqs[1].Get("ClusterIdentifier"))
			assert.Empty(t, reqs[1].Get("CustomDomainName"))
		})
		t.Run(b+"/domain refused, retried with the cluster", func(t *testing.T) {
			before := fake.Calls("")
			_, conn := open(t, b, kv(stale, "db_user=etl"))
			assert.Equal(t, "IAM:etl", currentUser(t, conn))
			reqs := fake.Requests()[before:]
			require.Len(t, reqs, 3)
			assert.Equal(t, stale, reqs[1].Get("CustomDomainName"))
			assert.Equal(t, "etl-prod", reqs[2].Get("ClusterIdentifier"), "the cluster DescribeCustomDomainAssociations gave")
			assert.Empty(t, reqs[2].Get("CustomDomainName"))
		})
		t.Run(b+"/unknown domain without ClusterID", func(t *testing.T) {
			db, err := sql.Open(b, kv(nlb, "db_user=etl"))
			require.NoError(t, err)
			defer db.Close()
			err = db.Ping()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "redshift-ka: DescribeCustomDomainAssociations for custom domain nlb.corp.test: CustomDomainAssociationNotFoundFault: ")
			assert.Contains(t, err.Error(), "the DSN gives no ClusterID to log in with instead")
		})
		t.Run(b+"/serverless", func(t *testing.T) {
			before := fake.Calls("")
			_, conn := open(t, b, kv("sl."+domain, "is_serverless=true"))
			assert.Equal(t, "IAMR:"+harness.FakeRole, currentUser(t, conn))
			reqs := fake.Requests()[before:]
			require.Len(t, reqs, 1)
			assert.Equal(t, "sl."+domain, reqs[0].Get("customDomainName"))
			assert.Empty(t, reqs[0].Get("workgroupName"))
			assert.Equal(t, pg.Database, reqs[0].Get("dbName"))

			before = fake.Calls("")
			_, conn = open(t, b, kv(nlb, "serverless_work_group=etl-wg"))
			assert.Equal(t, "IAMR:"+harness.FakeRole, currentUser(t, conn))
			reqs = fake.Requests()[before:]
			require.Len(t, reqs, 1)
			assert.Equal(t, "etl-wg", reqs[0].Get("workgroupName"))
			assert.Empty(t, reqs[0].Get("customDomainName"), "a workgroup given is sent in place of the domain")
		})
	}
}

// TestIAMDbNameAndLowercase: every credentials call carries the DSN's
// database (DbName, dbName), in every form, through both backends; with
// ForceLowercase the groups are sent lower-cased.
func TestIAMDbNameAndLowercase(t *testing.T) {
	pg, fake := iamSetup(t)
	for _, b := range backends {
		for _, f := range iamForms {
			for _, keys := range []map[string]string{
				// IAMDisableCache: a call per connector, to see.
				{"cluster": "etl-prod", "user": "etl", "groups": "Loaders,READERS", "lowercase": "true", "nocache": "true"},
				{"cluster": "etl-prod", "user": "etl", "federation": "true", "nocache": "true"},
				{"workgroup": "etl-wg", "nocache": "true"},
			} {
				t.Run(b+"/"+f.name, func(t *testing.T) {
					before := fake.Calls("")
					_, conn := open(t, b, f.dsn(pg, keys))
					currentUser(t, conn)
					reqs := fake.Requests()[before:]
					require.Len(t, reqs, 1)
					if keys["workgroup"] != "" {
						assert.Equal(t, pg.Database, reqs[0].Get("dbName"))
						return
					}
					assert.Equal(t, pg.Database, reqs[0].Get("DbName"))
					if keys["lowercase"] != "" {
						assert.Equal(t, "loaders", reqs[0].Get("DbGroups.DbGroup.1"))
						assert.Equal(t, "readers", reqs[0].Get("DbGroups.DbGroup.2"))
					}
				})
			}
		}
	}
}

// proxy is an HTTP proxy on loopback that forwards what it is sent and
// records the credentials it was given.
type proxy struct {
	addr string

	mu    sync.Mutex
	auths []string // the Proxy-Authorization headers, decoded
}

func startProxy(t *testing.T) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{addr: ln.Addr().String()}
	srv := &http.Server{Handler: p}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth, _ := strings.CutPrefix(r.Header.Get("Proxy-Authorization"), "Basic ")
	dec, _ := base64.StdEncoding.DecodeString(auth)
	p.mu.Lock()
	p.auths = append(p.auths, string(dec))
	p.mu.Unlock()
	if !r.URL.IsAbs() || r.URL.Host == "" {
		http.Error(w, "not a proxy request", http.StatusBadRequest)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Authorization")
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func (p *proxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.auths...)
}

// TestIAMHTTPSProxy: ODBC's https_proxy_host, https_proxy_port,
// https_proxy_username and https_proxy_password send the API calls through
// the proxy with those credentials, in every form, through both backends,
// and never reach the server (it would refuse an unknown parameter); ODBC's
// LoginTimeout goes on as connect_timeout. The
// proxy's password, the server's hostile one, shows in no output: Redact,
// the connector and its plan printed, and the error of a refused call.
func TestIAMHTTPSProxy(t *testing.T) {
	pg, fake := iamSetup(t)
	px := startProxy(t)
	host, port, _ := net.SplitHostPort(px.addr)
	secret := pg.Password // hostile: a space, quotes, #;&?%={}
	for _, b := range backends {
		for _, f := range iamForms {
			t.Run(b+"/"+f.name, func(t *testing.T) {
				var extra string
				switch f.name {
				case "odbc":
					extra = ";https_proxy_host=" + host + ";https_proxy_port=" + port + ";https_proxy_username=px;https_proxy_password=" + harness.ODBCQuote(secret)
				case "keyvalue":
					extra = " https_proxy_host=" + host + " https_proxy_port=" + port + " https_proxy_username=px https_proxy_password='" +
						strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(secret) + "'"
				case "url":
					extra = "&https_proxy_host=" + host + "&https_proxy_port=" + port + "&https_proxy_username=px&https_proxy_password=" +
						strings.ReplaceAll(url.QueryEscape(secret), "+", "%20")
				case "jdbc":
					extra = "&https_proxy_host=" + host + "&https_proxy_port=" + port + "&https_proxy_username=px&https_proxy_password=" + url.QueryEscape(secret)
				}
				// An ODBC key PostgreSQL does not know, mapped to libpq's.
				// IAMDisableCache: a call per connector, to see go through the proxy.
				dsn := f.dsn(pg, map[string]string{"cluster": "etl-prod", "user": "etl", "nocache": "true"}) + extra + f.sep + "LoginTimeout=5"
				before, seen := fake.Calls(""), len(px.seen())
				db, conn := open(t, b, dsn)
				assert.Equal(t, "IAM:etl", currentUser(t, conn))
				assert.Equal(t, before+1, fake.Calls(""))
				auths := px.seen()[seen:]
				require.Len(t, auths, 1, "the call went through the proxy")
				assert.Equal(t, "px:"+secret, auths[0], "with its credentials")

				var plan any
				if b == rkpq.Name {
					c, err := rkpq.NewConnector(dsn)
					require.NoError(t, err)
					plan = c.Login().Plan()
				} else {
					c, err := driver.NewConnector(dsn)
					require.NoError(t, err)
					plan = c.Login().Plan()
					harness.NoLeak(t, pg, "the connector", fmt.Sprintf("%v %+v %#v", c, c, c))
				}
				js, _ := json.Marshal(plan)
				assert.Contains(t, string(js), px.addr)
				parsed, err := dsnparse.Parse(dsn)
				require.NoError(t, err)
				pj, _ := json.Marshal(parsed)
				for what, s := range map[string]string{
					"Redact": dsnparse.Redact(dsn), "the plan": fmt.Sprintf("%+v", plan) + string(js),
					"the DB": fmt.Sprintf("%+v", db.Driver()), "the parsed DSN": fmt.Sprintf("%+v %#v %v", parsed, parsed.IAM, parsed) + string(pj),
				} {
					harness.NoLeak(t, pg, what, s)
				}
			})
		}
	}
	t.Run("refused by the proxy", func(t *testing.T) {
		dsn := iamForms[0].dsn(pg, etl) + ";https_proxy_host=127.0.0.1;https_proxy_port=" + strconv.Itoa(closedPort(t)) +
			";https_proxy_username=px;https_proxy_password=" + harness.ODBCQuote(secret)
		db, err := sql.Open(driver.Name, dsn)
		require.NoError(t, err)
		defer db.Close()
		err = db.Ping()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "GetClusterCredentials for cluster etl-prod")
		harness.NoLeak(t, pg, "the error", err.Error()+fmt.Sprintf(" %+v %#v", err, err))
	})
}

// TestIAMNoHostVerifyFull: with sslmode=verify-full, a DSN without a host
// checks the server's certificate against the name looked up, through both
// backends: "localhost", in the test server's certificate, connects; a
// name not in it is refused.
func TestIAMNoHostVerifyFull(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{TLS: true})
	fake := harness.StartAWSFake(t, pg)
	for k, v := range fake.Env(t.TempDir()) {
		t.Setenv(k, v)
	}
	root := filepath.Join(t.TempDir(), "root.pem")
	require.NoError(t, os.WriteFile(root, pg.CertPEM, 0o600))
	fake.AddCluster("etl-prod", "localhost", pg.Port)
	fake.AddCluster("etl-other", "other.corp.test", pg.Port)
	resolveFake(t, map[string]string{"localhost": pg.Host, "other.corp.test": pg.Host})
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			// IAMDisableCache: the fake issues one password per user at a
			// time, so etl-other's call would leave a cached etl-prod
			// password stale for the next backend's connection.
			dsn := "dbname=" + pg.Database + " sslmode=verify-full sslrootcert=" + root + " iam=true iam_disable_cache=1 db_user=etl cluster_identifier="
			_, conn := open(t, b, dsn+"etl-prod")
			assert.Equal(t, "IAM:etl", currentUser(t, conn))

			db, err := sql.Open(b, dsn+"etl-other")
			require.NoError(t, err)
			defer db.Close()
			err = db.Ping()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "other.corp.test")
		})
	}
}

// forwarder relays the TCP connections it accepts on a loopback port to
// another address, until closed; closed, its port refuses.
type forwarder struct {
	ln       net.Listener
	to       string
	accepted atomic.Int32
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func startForwarder(t *testing.T, to string) *forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &forwarder{ln: ln, to: to}
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(f.close)
	return f
}

func (f *forwarder) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *forwarder) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.accepted.Add(1)
		s, err := net.Dial("tcp", f.to)
		if err != nil {
			c.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, c, s)
		f.mu.Unlock()
		f.wg.Add(2)
		go func() { defer f.wg.Done(); io.Copy(s, c); s.Close() }()
		go func() { defer f.wg.Done(); io.Copy(c, s); c.Close() }()
	}
}

// close stops accepting, ends every relayed connection and waits for the
// goroutines.
func (f *forwarder) close() {
	f.ln.Close()
	f.mu.Lock()
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// TestIAMEndpointMoves: a DSN without a host whose looked-up endpoint
// stops answering (a resized or relocated cluster has moved) looks it up
// again after the failed dial. The first connect goes to the old address;
// it then refuses and AWS answers with the new one: the next connect
// fails on the old address, without a lookup; the ones after it, eight at
// once, all go to the new address and share one lookup. Both backends,
// provisioned and Serverless.
func TestIAMEndpointMoves(t *testing.T) {
	pg, fake := iamSetup(t)
	for _, b := range backends {
		for _, f := range []hostless{hostlessForms[0], hostlessForms[4]} {
			t.Run(b+"/"+f.name, func(t *testing.T) {
				lookup, move := "DescribeClusters", func(port int) { fake.AddCluster("etl-prod", pg.Host, port) }
				if f.serverless {
					lookup, move = "GetWorkgroup", func(port int) { fake.AddWorkgroup("etl-wg", pg.Host, port) }
				}
				old := startForwarder(t, net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port)))
				move(old.port())
				db, err := sql.Open(b, f.dsn(pg))
				require.NoError(t, err)
				defer db.Close()
				db.SetMaxIdleConns(0) // each Conn is a new connection
				ctx := iamCtx(t)
				connect := func() error {
					c, err := db.Conn(ctx)
					if err != nil {
						return err
					}
					defer c.Close()
					var port int
					return c.QueryRowContext(ctx, "SELECT inet_server_port()").Scan(&port)
				}
				before := fake.Calls(lookup)

				require.NoError(t, connect())
				require.Equal(t, int32(1), old.accepted.Load(), "the first connection went to the old address")
				old.close()
				move(pg.Port)

				err = connect()
				require.Error(t, err, "the old address refuses")
				assert.Contains(t, err.Error(), "connection refused")
				assert.Equal(t, 1, fake.Calls(lookup)-before, "the failed connect used the address looked up before")

				errs := make(chan error, 8)
				for range cap(errs) {
					go func() { errs <- connect() }()
				}
				for range cap(errs) {
					assert.NoError(t, <-errs, "a connect after the failed dial")
				}
				assert.Equal(t, 2, fake.Calls(lookup)-before, "one lookup after the failed dial, shared by the connects")
				assert.Equal(t, int32(1), old.accepted.Load(), "none went to the old address again")
			})
		}
	}
}
