// Package browser is the browser half of an identity provider's login,
// as Amazon's drivers run it for their browser plugins: a listener on a
// loopback port that the provider's redirect comes back to ([Listen],
// [Listener.Wait]), and the URL shown to the user and opened in their
// browser ([Show]).
//
// Its package variables are the seams the tests use: [Open] (an HTTP
// client in place of a browser) and [Stderr]. Where Azure AD is, by
// idp_partition, is package internal/azurehost's (a fake in tests).
package browser
