package scheduler

import (
	"math/rand/v2"
	"slices"
	"testing"
)

type simTotals struct {
	requests, preemptions, prefixHits, stops, aborts, midAborts, held int
}

// simulate runs one random workload: random arrivals, prompts drawn from a
// few shared prefixes, random max tokens, n > 1 groups, aborts, and a KV pool
// small enough that preemption is common. Every request must produce what it
// produces alone; every block must come back.
func simulate(t *testing.T, seed uint64) simTotals {
	rng := rand.New(rand.NewPCG(seed, 0x9a60da))
	const maxPrompt, maxOut = 48, 24
	bs := []int{1, 2, 4, 8, 16}[rng.IntN(5)]
	minBlocks := (maxPrompt + maxOut + bs - 1) / bs
	cfg := DefaultConfig(minBlocks + rng.IntN(2*minBlocks+1))
	cfg.BlockSize = bs
	cfg.MaxNumSeqs = 1 + rng.IntN(16)
	cfg.Policy = Policy(rng.IntN(2))
	cfg.EnableChunkedPrefill = rng.IntN(4) != 0
	cfg.EnablePrefixCaching = rng.IntN(5) != 0
	if cfg.EnableChunkedPrefill {
		cfg.MaxNumBatchedTokens = 1 + rng.IntN(64)
	} else {
		cfg.MaxNumBatchedTokens = maxPrompt + maxOut + rng.IntN(64)
	}
	s, m := newSched(t, cfg)
	m.stop = true

	var bases [3][]int32
	for i := range bases {
		bases[i] = make([]int32, 40)
		for j := range bases[i] {
			bases[i][j] = 1 + rng.Int32N(vocab-1)
		}
	}
	type spec struct {
		r            *Request
		arrive       int
		abortAt      int // step to abort at, -1 for never
		full         []int32
		wantOut      []int32
		wantReason   FinishReason
		parentInList bool
	}
	nReqs := 1 + rng.IntN(64)
	var specs []*spec
	for len(specs) < nReqs {
		var p []int32
		if rng.IntN(3) > 0 {
			p = slices.Clone(bases[rng.IntN(3)][:rng.IntN(41)])
		}
		for len(p) == 0 || rng.IntN(3) > 0 && len(p) < maxPrompt {
			p = append(p, 1+rng.Int32N(vocab-1))
		}
		p = p[:min(len(p), maxPrompt)]
		arrive := rng.IntN(3*nReqs + 1)
		kids := 0
		if rng.IntN(6) == 0 {
			kids = 1 + rng.IntN(2)
		}
		var parent *Request
		for k := 0; k <= kids; k++ {
			r := &Request{
				ID:        uint64(len(specs) + 1),
				Prompt:    p,
				MaxTokens: 1 + rng.IntN(maxOut),
				Priority:  rng.IntN(3),
				Parent:    parent,
			}
			if k == 0 {
				parent = r
			}
			sp := &spec{r: r, arrive: arrive, abortAt: -1, parentInList: k > 0}
			if rng.IntN(20) == 0 {
				sp.abortAt = arrive + rng.IntN(20)
			}
			sp.wantOut, sp.wantReason = reference(p, r.MaxTokens, true)
			sp.full = append(slices.Clone(p), sp.wantOut...)
			specs = append(specs, sp)
		}
	}
	byID := make(map[uint64]*spec)
	for _, sp := range specs {
		byID[sp.r.ID] = sp
	}

	var tot simTotals
	m.midStep = func(out *Output) {
		if len(out.Scheduled) > 0 && rng.IntN(100) == 0 {
			if s.Abort(out.Scheduled[rng.IntN(len(out.Scheduled))].ID) {
				tot.aborts++
				tot.midAborts++
			}
		}
	}
	added, emptySteps := 0, 0
	for step := 0; added < len(specs) || s.NumUnfinished() > 0; step++ {
		if step > 20000 {
			t.Fatalf("seed %d: %d requests unfinished after %d steps", seed, s.NumUnfinished(), step)
		}
		for _, sp := range specs {
			if sp.arrive == step {
				if err := s.Add(sp.r); err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				added++
			}
			if sp.abortAt == step && s.Abort(sp.r.ID) {
				tot.aborts++
			}
		}
		if s.NumUnfinished() == 0 {
			continue
		}
		// Requests decoding before the step must come before any prefill.
		decoding := make(map[uint64]bool)
		for _, r := range s.running {
			if len(r.tokens)-r.numComputed == 1 {
				decoding[r.ID] = true
			}
		}
		for _, r := range s.waiting {
			if held(r) {
				tot.held++
			}
		}
		out := m.step()
		if out.NumScheduledTokens > cfg.MaxNumBatchedTokens || len(out.Scheduled) > cfg.MaxNumSeqs || out.Stats.NumRunning > cfg.MaxNumSeqs {
			t.Fatalf("seed %d step %d: %d tokens, %d scheduled, %d running; limits %d and %d",
				seed, step, out.NumScheduledTokens, len(out.Scheduled), out.Stats.NumRunning, cfg.MaxNumBatchedTokens, cfg.MaxNumSeqs)
		}
		prefill := false
		for _, sc := range out.Scheduled {
			sp := byID[sc.ID]
			if !slices.Equal(sc.Tokens, sp.full[sc.Start:sc.Start+len(sc.Tokens)]) {
				t.Fatalf("seed %d step %d: request %d fed %v at %d, want %v", seed, step, sc.ID, sc.Tokens, sc.Start, sp.full[sc.Start:sc.Start+len(sc.Tokens)])
			}
			if prefill && decoding[sc.ID] {
				t.Fatalf("seed %d step %d: decode of %d after a prefill in %v", seed, step, sc.ID, ids(out))
			}
			if !sc.Sample && out.NumScheduledTokens != cfg.MaxNumBatchedTokens {
				t.Fatalf("seed %d step %d: request %d's prefill cut to %d tokens with budget to spare", seed, step, sc.ID, len(sc.Tokens))
			}
			prefill = prefill || len(sc.Tokens) > 1
			delete(decoding, sc.ID)
		}
		for _, id := range out.Preempted {
			delete(decoding, id)
		}
		if len(decoding) > 0 && out.NumScheduledTokens < cfg.MaxNumBatchedTokens {
			t.Fatalf("seed %d step %d: decodes %v left out with budget to spare", seed, step, decoding)
		}
		if out.NumScheduledTokens == 0 {
			// Only a step that preempted may come up empty, and never twice.
			emptySteps++
			if emptySteps > 1 || len(out.Preempted) == 0 {
				t.Fatalf("seed %d step %d: nothing scheduled with %d requests unfinished", seed, step, s.NumUnfinished())
			}
		} else {
			emptySteps = 0
		}
	}
	checkDrained(t, s)

	for _, sp := range specs {
		r := sp.r
		got := r.OutputTokens()
		if r.FinishReason() == FinishAbort {
			if !slices.Equal(got, sp.wantOut[:len(got)]) {
				t.Fatalf("seed %d: aborted request %d output %v is not a prefix of %v", seed, r.ID, got, sp.wantOut)
			}
			continue
		}
		if !slices.Equal(got, sp.wantOut) || r.FinishReason() != sp.wantReason {
			t.Fatalf("seed %d (%+v): request %d output %v (%v), alone %v (%v)", seed, cfg, r.ID, got, r.FinishReason(), sp.wantOut, sp.wantReason)
		}
		if r.FinishReason() == FinishStop {
			tot.stops++
		}
	}
	st := s.Stats()
	tot.requests = len(specs)
	tot.preemptions = int(st.Preemptions)
	tot.prefixHits = int(st.KV.PrefixHits)
	return tot
}

func TestRandomizedMatchesAlone(t *testing.T) {
	seeds := uint64(1000)
	if testing.Short() {
		seeds = 40
	}
	var sum simTotals
	for seed := range seeds {
		tot := simulate(t, seed)
		sum.requests += tot.requests
		sum.preemptions += tot.preemptions
		sum.prefixHits += tot.prefixHits
		sum.stops += tot.stops
		sum.aborts += tot.aborts
		sum.midAborts += tot.midAborts
		sum.held += tot.held
	}
	t.Logf("%d seeds: %+v", seeds, sum)
	// The workloads must actually exercise what they claim to.
	if sum.preemptions == 0 || sum.prefixHits == 0 || sum.stops == 0 || sum.aborts == 0 || sum.midAborts == 0 || sum.held == 0 {
		t.Fatalf("simulation missed a path: %+v", sum)
	}
}
