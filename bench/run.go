package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// errMaxDuration is the cancellation cause when a run reaches MaxDuration.
var errMaxDuration = errors.New("max duration reached")

// Run prepares the workload and runs the benchmark. It returns an error
// only when the run could not take place (bad config, no dataset, no model);
// failed requests are counted in the Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	logf("bench: %s%s, request rate %s, burstiness %v (%s), max concurrency %s, max duration %v",
		cfg.BaseURL, cfg.Endpoint, rateText(cfg.RequestRate), cfg.Burstiness, distribution(cfg.Burstiness),
		concurrencyText(cfg.MaxConcurrency), cfg.MaxDuration)
	client := cfg.HTTPClient
	if client == nil {
		conns := cfg.MaxConcurrency
		if conns == 0 {
			conns = min(cfg.NumPrompts, 1024)
		}
		client = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConns:        conns + 16,
			MaxIdleConnsPerHost: conns + 16,
			IdleConnTimeout:     90 * time.Second,
			// Compressed SSE arrives in bursts, which would distort ITL.
			DisableCompression: true,
		}}
		defer client.CloseIdleConnections()
	}

	// Preparation (model lookup, tokenizer calls) is bounded by
	// MaxDuration too, so a stuck /tokenize cannot hold the run forever.
	prepCtx, cancelPrep := context.WithTimeoutCause(ctx, cfg.MaxDuration, errMaxDuration)
	defer cancelPrep()
	model := cfg.Model
	if model == "" {
		m, err := firstModel(prepCtx, client, cfg.BaseURL, cfg.APIKey)
		if err != nil {
			return nil, err
		}
		model = m
		logf("bench: model not given, using the server's first model %q", model)
	}

	res := &Result{
		Date:         time.Now().Format("20060102-150405"),
		Backend:      cfg.backend(),
		EndpointType: cfg.backend(),
		Label:        cfg.Label,
		ModelID:      model,
		NumPrompts:   cfg.NumPrompts,
		RequestRate:  Rate(cfg.RequestRate),
		Burstiness:   Rate(cfg.Burstiness),
		BaseURL:      cfg.BaseURL,
		Endpoint:     cfg.Endpoint,
		DatasetName:  cfg.Dataset,
		Seed:         cfg.Seed,
		MaxDurationS: cfg.MaxDuration.Seconds(),
		Notes:        []string{},
	}
	if cfg.MaxConcurrency > 0 {
		mc := cfg.MaxConcurrency
		res.MaxConcurrency = &mc
	}
	if len(cfg.Goodput) > 0 {
		res.GoodputSLOms = GoodSLO(cfg.Goodput)
	}

	samples := cfg.Samples
	if samples == nil {
		tok, name, note, err := pickTokenizer(prepCtx, &cfg, client, model)
		if err != nil {
			return nil, err
		}
		res.TokenizerID = name
		if note != "" {
			res.Notes = append(res.Notes, note)
			logf("bench: %s", note)
		}
		logf("bench: building %d %s prompts with %s", cfg.NumPrompts, cfg.Dataset, name)
		var notes []string
		samples, notes, err = buildSamples(prepCtx, &cfg, tok)
		if err != nil {
			if prepCtx.Err() != nil {
				return nil, fmt.Errorf("bench: preparing prompts: %w (%v)", err, context.Cause(prepCtx))
			}
			return nil, err
		}
		for _, n := range notes {
			logf("bench: %s", n)
		}
		res.Notes = append(res.Notes, notes...)
	} else {
		res.DatasetName = "custom"
	}
	res.NumPrompts = len(samples)

	offsets, err := ArrivalOffsets(len(samples), cfg.RequestRate, cfg.Burstiness, cfg.Seed)
	if err != nil {
		return nil, err
	}
	rq := &requester{
		client:    client,
		url:       cfg.BaseURL + cfg.Endpoint,
		chat:      cfg.chat(),
		model:     model,
		apiKey:    cfg.APIKey,
		ignoreEOS: cfg.IgnoreEOS,
	}
	outs, dur, peak := runLoad(ctx, &cfg, rq, samples, offsets)
	res.NotSent = len(samples) - len(outs)
	res.MaxConcurrentRequests = peak
	computeResult(res, outs, dur.Seconds(), cfg.Percentiles, cfg.Goodput)
	if res.NotSent > 0 {
		why := errMaxDuration
		if ctx.Err() != nil {
			why = context.Cause(ctx)
		}
		res.Notes = append(res.Notes, fmt.Sprintf("%d requests were never sent: the run was stopped (%v)", res.NotSent, why))
	}
	return res, nil
}

// runLoad sends the samples at their arrival offsets, at most
// MaxConcurrency at a time, until all are done or MaxDuration passes. It
// returns the outputs of the requests that were sent, in sample order, the
// run's duration and the peak number of requests in flight.
func runLoad(parent context.Context, cfg *Config, rq *requester, samples []Sample, offsets []time.Duration) ([]RequestOutput, time.Duration, int) {
	ctx, cancel := context.WithTimeoutCause(parent, cfg.MaxDuration, errMaxDuration)
	defer cancel()

	var sem chan struct{}
	if cfg.MaxConcurrency > 0 {
		sem = make(chan struct{}, cfg.MaxConcurrency)
	}
	var (
		inFlight, peak atomic.Int64
		wg             sync.WaitGroup
		outs           = make([]RequestOutput, len(samples))
		sent           = make([]bool, len(samples))
	)
	prog := newProgress(cfg.Progress, cfg.ProgressBar, len(samples))
	start := time.Now()
	timer := time.NewTimer(0)
	<-timer.C
dispatch:
	for i := range samples {
		if wait := time.Until(start.Add(offsets[i])); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				break dispatch
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		// Arrivals keep their schedule; the cap makes them queue here.
		wg.Go(func() {
			if sem != nil {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				defer func() { <-sem }()
			}
			if ctx.Err() != nil {
				return
			}
			n := inFlight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			outs[i] = rq.do(ctx, samples[i], start)
			inFlight.Add(-1)
			sent[i] = true
			prog.done(outs[i].Success)
		})
	}
	wg.Wait()
	dur := time.Since(start)
	prog.finish()
	var got []RequestOutput
	for i, ok := range sent {
		if ok {
			got = append(got, outs[i])
		}
	}
	return got, dur, int(peak.Load())
}

// pickTokenizer chooses how prompts are measured, per cfg.TokenizerMode.
func pickTokenizer(ctx context.Context, cfg *Config, client *http.Client, model string) (tok Tokenizer, name, note string, err error) {
	if cfg.Tokenizer != nil {
		return cfg.Tokenizer, fmt.Sprintf("%T", cfg.Tokenizer), "", nil
	}
	approxNote := fmt.Sprintf("prompt lengths are estimates (%.2f words per token): no tokenizer", ApproxWordsPerToken)
	if cfg.TokenizerMode == "approx" {
		return ApproxTokenizer{}, "approx", approxNote, nil
	}
	st, err := NewServerTokenizer(ctx, client, cfg.BaseURL, model, cfg.APIKey)
	if err != nil {
		if cfg.TokenizerMode == "server" || ctx.Err() != nil {
			return nil, "", "", err
		}
		return ApproxTokenizer{}, "approx", approxNote + " endpoint on the server", nil
	}
	return st, st.Name(), "", nil
}

// firstModel asks GET /v1/models for the served model's id.
func firstModel(ctx context.Context, client *http.Client, baseURL, apiKey string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/v1/models", nil)
	if err != nil {
		return "", fmt.Errorf("bench: /v1/models: %w", err)
	}
	if apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("bench: no --model given and /v1/models failed: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", fmt.Errorf("bench: /v1/models: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("bench: no --model given and /v1/models answered HTTP %d: %s", resp.StatusCode, truncate(string(b), 200))
	}
	var out struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", fmt.Errorf("bench: /v1/models: %w", err)
	}
	if len(out.Data) == 0 || out.Data[0].ID == "" {
		return "", errors.New("bench: no --model given and /v1/models lists none")
	}
	return out.Data[0].ID, nil
}

func distribution(b float64) string {
	if b == 1 {
		return "Poisson process"
	}
	return "gamma distribution"
}

func concurrencyText(c int) string {
	if c <= 0 {
		return "none"
	}
	return strconv.Itoa(c)
}
