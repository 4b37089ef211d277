package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"
)

// ServeMain is `pagoda bench serve`: it parses args, runs the benchmark,
// prints vLLM's summary table to stdout and saves the result JSON when
// asked. Progress and notes go to stderr. It returns 0 on success, 2 for bad
// arguments and 1 when the run could not be made or no request completed.
func ServeMain(args []string, stdout, stderr io.Writer) int {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("pagoda bench serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.BaseURL, "base-url", cfg.BaseURL, "server root URL (OpenAI-compatible)")
	fs.StringVar(&cfg.Model, "model", "", "model name to request (default: first of GET /v1/models)")
	fs.StringVar(&cfg.Endpoint, "endpoint", cfg.Endpoint, "/v1/completions or /v1/chat/completions")
	fs.StringVar(&cfg.Dataset, "dataset", cfg.Dataset, "random, prefix-repetition, sharegpt FILE or jsonl FILE")
	fs.StringVar(&cfg.DatasetPath, "dataset-path", "", "file for the sharegpt and jsonl datasets")
	fs.IntVar(&cfg.NumPrompts, "num-prompts", cfg.NumPrompts, "number of requests")
	rate := fs.String("request-rate", "inf", "requests per second, or inf to send all at once")
	fs.Float64Var(&cfg.Burstiness, "burstiness", cfg.Burstiness, "gamma shape of the arrival gaps (1 = Poisson; < 1 burstier)")
	fs.IntVar(&cfg.MaxConcurrency, "max-concurrency", 0, "cap on requests in flight (0 = none)")
	fs.IntVar(&cfg.RandomInputLen, "random-input-len", cfg.RandomInputLen, "prompt tokens (random); suffix tokens (prefix-repetition)")
	fs.IntVar(&cfg.RandomOutputLen, "random-output-len", cfg.RandomOutputLen, "output tokens (random, prefix-repetition, jsonl default)")
	fs.Float64Var(&cfg.RandomRangeRatio, "random-range-ratio", 0, "lengths are uniform in [L(1-r), L(1+r)]")
	fs.IntVar(&cfg.PrefixLen, "prefix-len", cfg.PrefixLen, "shared prefix tokens (prefix-repetition)")
	fs.IntVar(&cfg.NumPrefixes, "num-prefixes", cfg.NumPrefixes, "distinct prefixes (prefix-repetition)")
	fs.IntVar(&cfg.SharegptOutputLen, "sharegpt-output-len", 0, "fixed output length for sharegpt (0: the reply's length)")
	fs.StringVar(&cfg.TokenizerMode, "tokenizer", cfg.TokenizerMode, "auto (server /tokenize, else estimate), server, or approx")
	fs.BoolVar(&cfg.IgnoreEOS, "ignore-eos", false, "send ignore_eos: true so outputs run to max_tokens")
	fs.Int64Var(&cfg.Seed, "seed", 0, "seed for the dataset and the arrival times")
	goodput := fs.String("goodput", "", "SLOs in ms for goodput: ttft:MS tpot:MS e2el:MS")
	pcts := fs.String("percentiles", "50,90,99", "comma-separated percentiles to report")
	saveResult := fs.String("save-result", "", "write the result JSON to this file")
	maxDur := fs.String("max-duration", "30m", "stop the run after this long (Go duration or seconds)")
	fs.StringVar(&cfg.APIKey, "api-key", os.Getenv("OPENAI_API_KEY"), "API key (default $OPENAI_API_KEY)")
	fs.StringVar(&cfg.Label, "label", "", "name of this run in results and plots")
	noProgress := fs.Bool("disable-progress", false, "no progress output")
	if err := fs.Parse(normalizeServeArgs(args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pagoda bench serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var err error
	if cfg.RequestRate, err = strconv.ParseFloat(*rate, 64); err != nil || !(cfg.RequestRate > 0) {
		fmt.Fprintf(stderr, "pagoda bench serve: --request-rate %q: want a positive number or inf\n", *rate)
		return 2
	}
	if cfg.Goodput, err = parseGoodput(*goodput); err != nil {
		fmt.Fprintf(stderr, "pagoda bench serve: %v\n", err)
		return 2
	}
	if cfg.Percentiles, err = parsePercentiles(*pcts); err != nil {
		fmt.Fprintf(stderr, "pagoda bench serve: %v\n", err)
		return 2
	}
	if cfg.MaxDuration, err = parseDuration(*maxDur); err != nil {
		fmt.Fprintf(stderr, "pagoda bench serve: --max-duration: %v\n", err)
		return 2
	}
	if !*noProgress {
		cfg.Progress = stderr
		if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			cfg.ProgressBar = true
		}
	}
	cfg.Log = stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "pagoda bench serve: %v\n", err)
		return 1
	}
	res.PrintTable(stdout)
	if *saveResult != "" {
		if err := res.WriteFile(*saveResult); err != nil {
			fmt.Fprintf(stderr, "pagoda bench serve: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "bench: result written to %s\n", *saveResult)
	}
	if res.Completed == 0 {
		fmt.Fprintln(stderr, "pagoda bench serve: no request completed")
		return 1
	}
	return 0
}

var sloArg = regexp.MustCompile(`^[a-z0-9]+:[^:]+$`)

// normalizeServeArgs lets the flag package read the syntax:
// "--dataset sharegpt FILE" becomes "--dataset sharegpt --dataset-path FILE"
// and "--goodput ttft:1 tpot:2" becomes "--goodput ttft:1,tpot:2".
func normalizeServeArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		if !strings.HasPrefix(a, "-") {
			out = append(out, a) // a value of the previous flag, or a stray argument
			continue
		}
		switch name {
		case "dataset":
			if !hasVal && i+1 < len(args) {
				i++
				val, hasVal = args[i], true
			}
			out = append(out, "--dataset="+val)
			if (val == DatasetShareGPT || val == DatasetJSONL) && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
				out = append(out, "--dataset-path="+args[i])
			}
		case "goodput":
			var vals []string
			if hasVal {
				vals = append(vals, val)
			}
			for i+1 < len(args) && sloArg.MatchString(args[i+1]) {
				i++
				vals = append(vals, args[i])
			}
			out = append(out, "--goodput="+strings.Join(vals, ","))
		default:
			out = append(out, a)
		}
	}
	return out
}

func parseGoodput(s string) (map[string]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	m := map[string]float64{}
	for _, kv := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			return nil, fmt.Errorf("--goodput %q: want KEY:MS pairs such as ttft:500", kv)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) {
			return nil, fmt.Errorf("--goodput %q: %q is not a non-negative number of ms", kv, v)
		}
		if k != "ttft" && k != "tpot" && k != "e2el" {
			return nil, fmt.Errorf("--goodput %q: metric must be ttft, tpot or e2el", kv)
		}
		m[k] = f
	}
	return m, nil
}

func parsePercentiles(s string) ([]float64, error) {
	var ps []float64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := strconv.ParseFloat(f, 64)
		if err != nil || p < 0 || p > 100 {
			return nil, fmt.Errorf("--percentiles: %q is not a number in [0, 100]", f)
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		return nil, errors.New("--percentiles: empty")
	}
	return ps, nil
}

// parseDuration accepts a Go duration ("90s", "10m") or plain seconds.
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if !(f > 0) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("%q must be positive", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be positive", s)
	}
	return d, nil
}

// PlotMain is `pagoda bench plot RESULT.json... -o FILE.png`.
func PlotMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pagoda bench plot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output PNG file")
	fs.StringVar(out, "output", "", "output PNG file (same as -o)")
	title := fs.String("title", "", "title above the panels")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pagoda bench plot RESULT.json... -o FILE.png [--title T]")
		fs.PrintDefaults()
	}
	// Flags may come before, between or after the files.
	var files []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) == 0 || *out == "" {
		fs.Usage()
		return 2
	}
	var runs []PlotRun
	for _, f := range files {
		r, err := LoadPlotRun(f)
		if err != nil {
			fmt.Fprintf(stderr, "pagoda bench plot: %v\n", err)
			return 1
		}
		runs = append(runs, r)
	}
	if err := WritePlot(runs, *title, *out); err != nil {
		fmt.Fprintf(stderr, "pagoda bench plot: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s (%d results)\n", *out, len(runs))
	return 0
}
