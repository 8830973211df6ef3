//go:build linux

package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The calls that look an endpoint or a custom domain up, which the fake
// answers from what the test registers: redshift DescribeClusters and
// DescribeCustomDomainAssociations (AWS Query, XML) and redshift-serverless
// GetWorkgroup (JSON 1.1), in their real wire formats, signed requests
// checked as for the other calls.

// fakeEndpoint is a registered endpoint.
type fakeEndpoint struct {
	host string
	port int
}

// AddCluster makes DescribeClusters answer for the cluster id with the
// endpoint host:port; port 0 leaves the port out of the answer.
func (f *AWSFake) AddCluster(id, host string, port int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.clusters == nil {
		f.clusters = map[string]fakeEndpoint{}
	}
	f.clusters[id] = fakeEndpoint{host, port}
}

// AddWorkgroup makes redshift-serverless GetWorkgroup answer for the
// workgroup with the endpoint host:port.
func (f *AWSFake) AddWorkgroup(name, host string, port int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.workgroups == nil {
		f.workgroups = map[string]fakeEndpoint{}
	}
	f.workgroups[name] = fakeEndpoint{host, port}
}

// AddDomain associates a custom domain name with a cluster (or, for
// Serverless, a workgroup): DescribeCustomDomainAssociations names the
// cluster, and the credentials calls accept the domain in place of the
// cluster or workgroup.
func (f *AWSFake) AddDomain(domain, clusterOrWorkgroup string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.domains == nil {
		f.domains = map[string]string{}
	}
	f.domains[strings.ToLower(domain)] = clusterOrWorkgroup
}

// RefuseDomain makes the credentials calls that name the custom domain
// fail as for an unknown one, while DescribeCustomDomainAssociations still
// answers for it: the case Amazon's drivers retry with the cluster
// identifier.
func (f *AWSFake) RefuseDomain(domain string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refused == nil {
		f.refused = map[string]bool{}
	}
	f.refused[strings.ToLower(domain)] = true
}

// domain returns what a custom domain is associated with; "" if none.
func (f *AWSFake) domain(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.domains[strings.ToLower(name)]
}

// checkTarget refuses a credentials call that names no target, or a custom
// domain the fake does not know, as AWS does; it reports whether it did.
func (f *AWSFake) checkTarget(w http.ResponseWriter, api string, params url.Values, serverless bool, reqID string) bool {
	if serverless {
		if d := params.Get("customDomainName"); d != "" && f.domain(d) == "" {
			f.refuse(w, true, http.StatusBadRequest, "ValidationException", "custom domain "+d+" is not associated", reqID)
			return true
		}
		if params.Get("customDomainName") == "" && params.Get("workgroupName") == "" {
			f.refuse(w, true, http.StatusBadRequest, "ValidationException", "workgroupName or customDomainName is required", reqID)
			return true
		}
		return false
	}
	d := params.Get("CustomDomainName")
	f.mu.Lock()
	refused := f.refused[strings.ToLower(d)]
	f.mu.Unlock()
	switch {
	case refused:
		f.refuse(w, false, http.StatusNotFound, "CustomDomainAssociationNotFoundFault", "custom domain "+d+" is not associated", reqID)
	case d != "" && params.Get("ClusterIdentifier") != "":
		f.refuse(w, false, http.StatusBadRequest, "InvalidParameterCombination", "give ClusterIdentifier or CustomDomainName, not both", reqID)
	case d != "" && f.domain(d) == "":
		f.refuse(w, false, http.StatusNotFound, "CustomDomainAssociationNotFoundFault", "custom domain "+d+" is not associated", reqID)
	case d == "" && params.Get("ClusterIdentifier") == "":
		f.refuse(w, false, http.StatusBadRequest, "ValidationError", "ClusterIdentifier or CustomDomainName is required", reqID)
	default:
		return false
	}
	return true
}

// serveLookup answers a lookup call, and reports whether api is one.
func (f *AWSFake) serveLookup(w http.ResponseWriter, api string, params url.Values, serverless bool, reqID string) bool {
	f.mu.Lock()
	clusters, workgroups := f.clusters, f.workgroups
	f.mu.Unlock()
	switch {
	case serverless && api == "GetWorkgroup":
		name := params.Get("workgroupName")
		f.mu.Lock()
		ep, ok := workgroups[name]
		f.mu.Unlock()
		if !ok {
			f.refuse(w, true, http.StatusBadRequest, "ResourceNotFoundException", "Workgroup "+name+" not found", reqID)
			return true
		}
		out := map[string]any{"address": ep.host}
		if ep.port != 0 {
			out["port"] = ep.port
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(map[string]any{"workgroup": map[string]any{
			"workgroupName": name, "status": "AVAILABLE", "endpoint": out}})
		return true
	case !serverless && api == "DescribeClusters":
		id := params.Get("ClusterIdentifier")
		f.mu.Lock()
		ep, ok := clusters[id]
		f.mu.Unlock()
		if !ok {
			f.refuse(w, false, http.StatusNotFound, "ClusterNotFound", "Cluster "+id+" not found.", reqID)
			return true
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "<Endpoint><Address>%s</Address>", xmlText(ep.host))
		if ep.port != 0 {
			fmt.Fprintf(&b, "<Port>%d</Port>", ep.port)
		}
		b.WriteString("</Endpoint>")
		f.answerXML(w, api, fmt.Sprintf("<Clusters><Cluster><ClusterIdentifier>%s</ClusterIdentifier><ClusterStatus>available</ClusterStatus>%s</Cluster></Clusters>",
			xmlText(id), b.String()), reqID)
		return true
	case !serverless && api == "DescribeCustomDomainAssociations":
		d := params.Get("CustomDomainName")
		cluster := f.domain(d)
		if cluster == "" {
			// AWS answers an unknown domain with this fault.
			f.refuse(w, false, http.StatusNotFound, "CustomDomainAssociationNotFoundFault", "An association for the custom domain "+d+" was not found.", reqID)
			return true
		}
		f.answerXML(w, api, fmt.Sprintf("<Associations><Association><CustomDomainCertificateArn>arn:aws:acm:us-east-1:000000000000:certificate/fake</CustomDomainCertificateArn>"+
			"<CertificateAssociations><CertificateAssociation><CustomDomainName>%s</CustomDomainName><ClusterIdentifier>%s</ClusterIdentifier></CertificateAssociation></CertificateAssociations>"+
			"</Association></Associations>", xmlText(d), xmlText(cluster)), reqID)
		return true
	}
	return false
}

// answerXML writes an AWS Query answer to api with result inside.
func (f *AWSFake) answerXML(w http.ResponseWriter, api, result, reqID string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`,
		api, api, result, api, reqID, api)
}
