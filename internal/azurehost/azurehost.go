// Package azurehost is where the iam package's Azure AD plugins sign in:
// Microsoft's authority of the cloud partition, or in tests a fake's
// (a test seam: Amazon's drivers hard-code the hosts, and no DSN key
// names another).
package azurehost

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// The authorities of Microsoft's clouds, by idp_partition, as Amazon's
// drivers name them (JDBC AzureIdpHostUtil.getIdpHostByPartition,
// redshift_connector plugin_utils.get_microsoft_idp_host, ODBC
// IAMUtils::GetMicrosoftIdpHost): empty or "commercial", "us-gov", "cn".
var partitions = map[string]string{
	"":           "https://login.microsoftonline.com",
	"commercial": "https://login.microsoftonline.com",
	"us-gov":     "https://login.microsoftonline.us",
	"cn":         "https://login.chinacloudapi.cn",
}

// override is the authority a test set; nil: Microsoft's.
var override atomic.Pointer[string]

// Authority returns the authority (https://host) of the partition, in any
// case and with spaces around it ignored, as the drivers read it.
func Authority(partition string) (string, error) {
	a, ok := partitions[strings.ToLower(strings.TrimSpace(partition))]
	if !ok {
		return "", fmt.Errorf("idp_partition: want commercial, us-gov or cn, got %q", partition)
	}
	if o := override.Load(); o != nil {
		return *o, nil
	}
	return a, nil
}

// Set makes Authority return url for every partition until restore is
// called. For tests only.
func Set(url string) (restore func()) {
	override.Store(&url)
	return func() { override.Store(nil) }
}
