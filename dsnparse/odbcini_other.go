//go:build !unix

package dsnparse

// openNonBlock: no FIFOs to wait on here.
const openNonBlock = 0
