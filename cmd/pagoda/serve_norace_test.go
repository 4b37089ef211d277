//go:build !race

package main

const serveUnderRace = false
