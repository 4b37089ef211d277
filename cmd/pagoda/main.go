// Command pagoda serves, runs, inspects, quantizes and benchmarks GGUF models.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"

	"github.com/pagoda-llm/pagoda/convert"
	"github.com/pagoda-llm/pagoda/quantize"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "serve the OpenAI-compatible HTTP API", runServe},
		{"generate", "generate text from a prompt", runGenerate},
		{"info", "describe a GGUF file: config, tensors, size", runInfo},
		{"tokenize", "print the token ids of a text", runTokenize},
		{"detokenize", "print the text of token ids", runDetokenize},
		{"quantize", "quantize a GGUF file like llama-quantize (byte-identical output)", quantize.Main},
		{"convert", "convert a Hugging Face llama checkpoint (safetensors) to GGUF", convert.Main},
		{"bench", "benchmarks: serve (load test), plot, batched, model, synth, …", runBench},
		{"version", "print the version", func([]string, io.Writer, io.Writer) int { fmt.Println("pagoda", version); return 0 }},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: pagoda COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'pagoda COMMAND -h' for a command's flags. Every flag can also be set as PAGODA_<FLAG> in the environment.")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "pagoda: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// newFlags makes a flag set for a command that prints errors to stderr.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("pagoda "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, allowing flags after positional arguments (as
// llama.cpp's tools do), then fills flags not given on the command line from
// PAGODA_<NAME> environment variables (dashes become underscores).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
		if rest[0] == "--" {
			pos = append(pos[:len(pos)-1], args...)
			break
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := "PAGODA_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && !set[f.Name] && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", env, v, e)
			}
		}
	})
	return pos, err
}

func defaultThreads() int { return runtime.NumCPU() }

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
