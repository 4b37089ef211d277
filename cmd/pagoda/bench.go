package main

import (
	"fmt"
	"io"

	"github.com/pagoda-llm/pagoda/bench"
	"github.com/pagoda-llm/pagoda/bench/batched"
	"github.com/pagoda-llm/pagoda/bench/modelbench"
	"github.com/pagoda-llm/pagoda/bench/quality"
)

// benchCommands are the `pagoda bench` subcommands.
func benchCommands() []command {
	return []command{
		{"serve", "load-test an OpenAI-compatible server (like vllm bench serve)", bench.ServeMain},
		{"plot", "draw throughput and latency from bench serve results", bench.PlotMain},
		{"batched", "prompt and generation speed with many parallel sequences (like llama-batched-bench)", batched.Main},
		{"model", "prompt and generation speed of one sequence (like llama-bench)", modelbench.ModelMain},
		{"synth", "write a random-weight llama-shaped model for benchmarks", modelbench.SynthMain},
		{"quality", "perplexity and KL divergence like llama-perplexity", quality.QualityMain},
		{"quant-table", "quantize to every level and tabulate size, quality, speed", quality.QuantTableMain},
	}
}

func runBench(args []string, stdout, stderr io.Writer) int {
	subs := benchCommands()
	if len(args) > 0 {
		for _, c := range subs {
			if c.name == args[0] {
				return c.run(args[1:], stdout, stderr)
			}
		}
		if args[0] != "-h" && args[0] != "--help" && args[0] != "help" {
			fmt.Fprintf(stderr, "pagoda bench: unknown benchmark %q\n\n", args[0])
		}
	}
	fmt.Fprintln(stderr, "usage: pagoda bench BENCHMARK [flags]\n\nbenchmarks:")
	for _, c := range subs {
		fmt.Fprintf(stderr, "  %-8s %s\n", c.name, c.summary)
	}
	if len(args) == 0 {
		return 2
	}
	return 0
}
