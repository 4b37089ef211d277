//go:build race

package main

// serveUnderRace lightens the tests that run the real model: the race
// detector slows the kernels down by an order of magnitude.
const serveUnderRace = true
