package iam

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/redshiftserverless"
)

// The calls that find the endpoint of a DSN without a host.
const (
	apiDescribeClusters = "DescribeClusters"
	apiGetWorkgroup     = "redshift-serverless GetWorkgroup"
)

// defaultPort is Redshift's port, for an answer without one.
const defaultPort = 5439

// endpoint is the endpoint of a login's cluster or workgroup, looked up
// on first use and again after [login.Forget]: a failed lookup is not
// kept, the next connect asks again.
type endpoint struct {
	once sync.Once
	lock chan struct{} // holds a token while a connect looks up
	mu   sync.Mutex
	addr string // host:port, once looked up; under mu
}

// acquire takes e's lock, or gives up with ctx: a connect waiting for
// another's lookup waits no longer than its own context allows.
func (e *endpoint) acquire(ctx context.Context) error {
	e.once.Do(func() { e.lock = make(chan struct{}, 1) })
	select {
	case e.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives e's lock back.
func (e *endpoint) release() { <-e.lock }

// cached returns the address looked up; "" if none.
func (e *endpoint) cached() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addr
}

// Endpoint returns the address, "host:port", of the cluster
// (DescribeClusters) or workgroup (redshift-serverless GetWorkgroup) the
// login is for, asking AWS the first time and after [login.Forget], as
// redshift_connector's IamHelper.set_cluster_host_and_port, JDBC's
// IamHelper.callDescribeClustersAPIForV1 and
// ServerlessIamHelper.describeConfiguration, and ODBC's
// RsIamClient::DescribeCluster do for a DSN without a host. Concurrent
// connects share one lookup.
func (l *login) Endpoint(ctx context.Context) (string, error) {
	e := &l.endpoint
	if addr := e.cached(); addr != "" {
		return addr, nil
	}
	api := apiDescribeClusters
	if l.req.API == apiServerless {
		api = apiGetWorkgroup
	}
	if err := e.acquire(ctx); err != nil {
		return "", l.wrapAPI(api, err)
	}
	defer e.release()
	if addr := e.cached(); addr != "" {
		return addr, nil // looked up by the connect that held the lock
	}
	ctx, cancel := context.WithTimeout(ctx, callLimit)
	defer cancel()
	host, port, err := l.lookup(ctx)
	if err == nil && host == "" {
		err = errors.New("the answer has no endpoint address (is the cluster or workgroup available yet?)")
	}
	if err != nil {
		werr := l.wrapAPI(api, err)
		if l.log != nil {
			l.log.Debug("redshift-ka: IAM endpoint lookup failed", "api", api, "target", l.plan.Target(), "error", werr.Error())
		}
		return "", werr
	}
	if port == 0 {
		port = defaultPort
	}
	addr := net.JoinHostPort(host, strconv.Itoa(int(port)))
	e.mu.Lock()
	e.addr = addr
	e.mu.Unlock()
	if l.log != nil {
		l.log.Debug("redshift-ka: IAM endpoint", "target", l.plan.Target(), "address", addr)
	}
	return addr, nil
}

// Forget drops addr, which [login.Endpoint] returned and a dial to failed,
// so that the next connect looks the endpoint up again; an address
// looked up since is kept.
func (l *login) Forget(addr string) {
	e := &l.endpoint
	e.mu.Lock()
	forgot := addr != "" && e.addr == addr
	if forgot {
		e.addr = ""
	}
	e.mu.Unlock()
	if forgot && l.log != nil {
		l.log.Debug("redshift-ka: IAM endpoint unreachable; looked up again at the next connect", "target", l.plan.Target(), "address", addr)
	}
}

// lookup makes the call.
func (l *login) lookup(ctx context.Context) (string, int32, error) {
	if l.loadErr != nil {
		return "", 0, l.loadErr
	}
	if l.req.API == apiServerless {
		out, err := l.clients.rss.GetWorkgroup(ctx, &redshiftserverless.GetWorkgroupInput{WorkgroupName: aws.String(l.req.Workgroup)})
		if err != nil {
			return "", 0, err
		}
		if out.Workgroup == nil || out.Workgroup.Endpoint == nil {
			return "", 0, nil
		}
		return aws.ToString(out.Workgroup.Endpoint.Address), aws.ToInt32(out.Workgroup.Endpoint.Port), nil
	}
	out, err := l.clients.rs.DescribeClusters(ctx, &redshift.DescribeClustersInput{ClusterIdentifier: aws.String(l.req.Cluster)})
	if err != nil {
		return "", 0, err
	}
	if len(out.Clusters) == 0 {
		return "", 0, fmt.Errorf("no cluster %s", l.req.Cluster)
	}
	ep := out.Clusters[0].Endpoint
	if ep == nil {
		return "", 0, nil
	}
	return aws.ToString(ep.Address), aws.ToInt32(ep.Port), nil
}
