package scheduler

import (
	"slices"
	"strings"
	"testing"
)

func newSched(t *testing.T, cfg Config) (*Scheduler, *fakeModel) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, newFakeModel(t, s)
}

func testConfig(numBlocks, blockSize, budget int) Config {
	cfg := DefaultConfig(numBlocks)
	cfg.BlockSize = blockSize
	cfg.MaxNumBatchedTokens = budget
	return cfg
}

func prompt(n int, seed int32) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = 1 + (seed*7+int32(i)*13)%(vocab-1)
	}
	return p
}

func add(t *testing.T, s *Scheduler, id uint64, p []int32, maxTokens, prio int) *Request {
	t.Helper()
	r := &Request{ID: id, Prompt: p, MaxTokens: maxTokens, Priority: prio}
	if err := s.Add(r); err != nil {
		t.Fatal(err)
	}
	return r
}

func ids(out *Output) []uint64 {
	var r []uint64
	for _, sc := range out.Scheduled {
		r = append(r, sc.ID)
	}
	return r
}

func TestSingleRequest(t *testing.T) {
	s, m := newSched(t, testConfig(16, 4, 64))
	r := add(t, s, 1, prompt(10, 1), 12, 0)
	out := m.step()
	if len(out.Scheduled) != 1 || out.Scheduled[0].Start != 0 || len(out.Scheduled[0].Tokens) != 10 || !out.Scheduled[0].Sample {
		t.Fatalf("first step %+v", out.Scheduled)
	}
	m.drain(100)
	m.checkOutput(r)
	if len(r.OutputTokens()) != 12 || r.FinishReason() != FinishLength || r.Status() != Finished {
		t.Fatalf("got %d tokens, %v, %v", len(r.OutputTokens()), r.FinishReason(), r.Status())
	}
	checkDrained(t, s)
}

func TestPrefixCacheSkipsPrefill(t *testing.T) {
	s, m := newSched(t, testConfig(32, 4, 64))
	p := prompt(18, 2)
	a := add(t, s, 1, p, 3, 0)
	m.drain(100)
	m.checkOutput(a)

	b := add(t, s, 2, p, 3, 0)
	out := m.step()
	if sc := out.Scheduled[0]; sc.Start != 16 || len(sc.Tokens) != 2 {
		t.Fatalf("second request starts at %d with %d tokens, want 16 and 2", sc.Start, len(sc.Tokens))
	}
	if st := out.Stats.KV; st.PrefixQueries != 36 || st.PrefixHits != 16 {
		t.Fatalf("prefix stats %+v, want 36 queries and 16 hits", st)
	}
	m.drain(100)
	m.checkOutput(b)

	// Another salt sees none of it.
	c := &Request{ID: 3, Prompt: p, MaxTokens: 3, CacheSalt: []byte("tenant-b")}
	if err := s.Add(c); err != nil {
		t.Fatal(err)
	}
	if out := m.step(); out.Scheduled[0].Start != 0 {
		t.Fatal("salted request hit another salt's blocks")
	}
	m.drain(100)
	m.checkOutput(c)
	checkDrained(t, s)
}

func TestChunkedPrefillKeepsDecodesFirst(t *testing.T) {
	s, m := newSched(t, testConfig(64, 4, 8))
	a := add(t, s, 1, prompt(3, 1), 20, 0)
	b := add(t, s, 2, prompt(3, 2), 20, 0)
	if out := m.step(); !slices.Equal(ids(out), []uint64{1, 2}) || out.NumScheduledTokens != 6 {
		t.Fatalf("first step %v, %d tokens", ids(out), out.NumScheduledTokens)
	}
	c := add(t, s, 3, prompt(40, 3), 2, 0)
	chunks := 0
	for c.NumComputedTokens() < 40 {
		out := m.step()
		if out.NumScheduledTokens > 8 {
			t.Fatalf("%d tokens over the budget of 8", out.NumScheduledTokens)
		}
		if !slices.Equal(ids(out), []uint64{1, 2, 3}) {
			t.Fatalf("step order %v, want decodes 1 and 2 before prefill 3", ids(out))
		}
		if len(out.Scheduled[0].Tokens) != 1 || len(out.Scheduled[1].Tokens) != 1 || len(out.Scheduled[2].Tokens) > 6 {
			t.Fatalf("shares %d %d %d", len(out.Scheduled[0].Tokens), len(out.Scheduled[1].Tokens), len(out.Scheduled[2].Tokens))
		}
		chunks++
	}
	if chunks != 7 {
		t.Fatalf("40-token prompt took %d chunks, want 7 of at most 6", chunks)
	}
	m.drain(100)
	for _, r := range []*Request{a, b, c} {
		m.checkOutput(r)
	}
	checkDrained(t, s)
}

// Three requests of 4 prompt + 8 output tokens in blocks of 2 need 18 blocks
// at the end; with 10 blocks the fourth decode step runs out.
func preemptionRun(t *testing.T, policy Policy, prios [3]int) (reqs []*Request, firstVictim uint64) {
	cfg := testConfig(10, 2, 64)
	cfg.Policy = policy
	s, m := newSched(t, cfg)
	for i := range 3 {
		reqs = append(reqs, add(t, s, uint64(i+1), prompt(4, int32(i)), 8, prios[i]))
	}
	for step := 0; s.NumUnfinished() > 0; step++ {
		if step > 200 {
			t.Fatal("did not finish")
		}
		out := m.step()
		if firstVictim == 0 && len(out.Preempted) > 0 {
			firstVictim = out.Preempted[0]
			if len(out.Preempted) != 1 || slices.Contains(ids(out), firstVictim) {
				t.Fatalf("preempted %v while scheduling %v", out.Preempted, ids(out))
			}
			v, _ := s.Get(firstVictim)
			if v.Status() != Preempted || v.NumComputedTokens() != 0 || s.waiting[0] != v {
				t.Fatalf("victim status %v computed %d, not at the front of waiting", v.Status(), v.NumComputedTokens())
			}
			if out.Stats.Preemptions != 1 {
				t.Fatalf("preemption counter %d", out.Stats.Preemptions)
			}
		}
	}
	for _, r := range reqs {
		m.checkOutput(r)
	}
	checkDrained(t, s)
	return reqs, firstVictim
}

func TestPreemptionFCFSNewestFirst(t *testing.T) {
	reqs, v := preemptionRun(t, FCFS, [3]int{0, 0, 0})
	if v != 3 {
		t.Fatalf("FCFS preempted request %d, want the newest (3)", v)
	}
	if reqs[2].NumPreemptions() == 0 {
		t.Fatal("victim's preemption not counted")
	}
}

func TestPreemptionPriorityLowestFirst(t *testing.T) {
	// The oldest request has the lowest priority (largest value).
	reqs, v := preemptionRun(t, Priority, [3]int{5, 0, 1})
	if v != 1 {
		t.Fatalf("priority policy preempted request %d, want 1 (priority 5)", v)
	}
	if reqs[1].NumPreemptions() != 0 {
		t.Fatal("the highest-priority request was preempted")
	}
	// Equal priorities: the later arrival goes first.
	if _, v := preemptionRun(t, Priority, [3]int{1, 1, 0}); v != 2 {
		t.Fatalf("tie broken toward request %d, want 2", v)
	}
}

func TestPriorityAdmissionOrder(t *testing.T) {
	cfg := testConfig(64, 4, 64)
	cfg.Policy = Priority
	cfg.MaxNumSeqs = 1
	s, m := newSched(t, cfg)
	add(t, s, 1, prompt(5, 1), 1, 3)
	add(t, s, 2, prompt(5, 2), 1, 1)
	add(t, s, 3, prompt(5, 3), 1, 1)
	add(t, s, 4, prompt(5, 4), 1, 0)
	var order []uint64
	for s.NumUnfinished() > 0 {
		order = append(order, ids(m.step())...)
	}
	if !slices.Equal(order, []uint64{4, 2, 3, 1}) {
		t.Fatalf("ran in order %v, want 4 2 3 1", order)
	}
	checkDrained(t, s)
}

func TestMaxNumSeqs(t *testing.T) {
	cfg := testConfig(64, 4, 256)
	cfg.MaxNumSeqs = 2
	s, m := newSched(t, cfg)
	var reqs []*Request
	for i := range 5 {
		reqs = append(reqs, add(t, s, uint64(i+1), prompt(6, int32(i)), 4, 0))
	}
	maxSeen := 0
	for s.NumUnfinished() > 0 {
		out := m.step()
		if len(out.Scheduled) > 2 || out.Stats.NumRunning > 2 {
			t.Fatalf("%d scheduled, %d running, cap 2", len(out.Scheduled), out.Stats.NumRunning)
		}
		maxSeen = max(maxSeen, len(out.Scheduled))
	}
	if maxSeen != 2 {
		t.Fatalf("never ran 2 at once (max %d)", maxSeen)
	}
	for _, r := range reqs {
		m.checkOutput(r)
	}
	checkDrained(t, s)
}

func TestWithoutChunkedPrefill(t *testing.T) {
	cfg := testConfig(64, 4, 16)
	cfg.EnableChunkedPrefill = false
	s, m := newSched(t, cfg)
	if err := s.Add(&Request{ID: 9, Prompt: prompt(10, 9), MaxTokens: 7}); err == nil {
		t.Fatal("accepted a request that cannot be recomputed in one step")
	}
	a := add(t, s, 1, prompt(10, 1), 4, 0)
	b := add(t, s, 2, prompt(10, 2), 4, 0)
	if out := m.step(); !slices.Equal(ids(out), []uint64{1}) {
		t.Fatalf("first step ran %v, want only 1 (10+10 > 16)", ids(out))
	}
	out := m.step()
	if !slices.Equal(ids(out), []uint64{1, 2}) || len(out.Scheduled[1].Tokens) != 10 {
		t.Fatalf("second step ran %v", ids(out))
	}
	m.drain(100)
	m.checkOutput(a)
	m.checkOutput(b)
	checkDrained(t, s)
}

func TestAbortFreesBlocks(t *testing.T) {
	s, m := newSched(t, testConfig(16, 4, 8))
	a := add(t, s, 1, prompt(30, 1), 5, 0)
	b := add(t, s, 2, prompt(5, 2), 5, 0)
	m.step() // a holds 2 blocks, mid-prefill; b waits
	if s.kv.NumBlocksInUse() != 2 || b.Status() != Waiting {
		t.Fatalf("%d blocks in use, b %v", s.kv.NumBlocksInUse(), b.Status())
	}
	if !s.Abort(1) || s.kv.NumBlocksInUse() != 0 || a.Status() != Finished || a.FinishReason() != FinishAbort {
		t.Fatal("abort of a running request did not free its blocks at once")
	}
	if s.Abort(1) {
		t.Fatal("second abort reported success")
	}
	// Abort while the step runs: Update skips the request.
	out := s.Schedule()
	sampled := m.run(out)
	s.Abort(2)
	if err := s.Update(out, sampled); err != nil {
		t.Fatal(err)
	}
	if len(b.OutputTokens()) != 0 {
		t.Fatal("aborted request got a token")
	}
	c := add(t, s, 3, prompt(5, 3), 5, 0)
	if !s.Abort(3) || c.Status() != Finished {
		t.Fatal("abort of a waiting request failed")
	}
	checkDrained(t, s)
}

func TestParallelSamplingSharesPrompt(t *testing.T) {
	s, m := newSched(t, testConfig(32, 4, 64))
	p := prompt(18, 5)
	parent := add(t, s, 1, p, 6, 0)
	kids := []*Request{{ID: 2, Prompt: p, MaxTokens: 6, Parent: parent}, {ID: 3, Prompt: p, MaxTokens: 6, Parent: parent}}
	for _, k := range kids {
		if err := s.Add(k); err != nil {
			t.Fatal(err)
		}
	}
	if out := m.step(); !slices.Equal(ids(out), []uint64{1}) {
		t.Fatalf("first step ran %v, want the parent alone", ids(out))
	}
	out := m.step()
	if !slices.Equal(ids(out), []uint64{1, 2, 3}) {
		t.Fatalf("second step ran %v", ids(out))
	}
	for _, sc := range out.Scheduled[1:] {
		if sc.Start != 16 || !slices.Equal(sc.BlockTable[:4], out.Scheduled[0].BlockTable[:4]) {
			t.Fatalf("sample %d starts at %d with table %v; parent's %v", sc.ID, sc.Start, sc.BlockTable, out.Scheduled[0].BlockTable)
		}
	}
	if refs := s.kv.Pool().RefCount(out.Scheduled[0].BlockTable[0]); refs != 3 {
		t.Fatalf("first prompt block has %d references, want 3", refs)
	}
	m.drain(100)
	m.checkOutput(parent)
	for _, k := range kids {
		m.checkOutput(k)
	}
	checkDrained(t, s)
}

func TestCheckRefuses(t *testing.T) {
	cfg := testConfig(8, 4, 64)
	cfg.MaxModelLen = 30
	s, _ := newSched(t, cfg)
	for _, c := range []struct {
		prompt, max int
		want        string
	}{
		{0, 5, "empty prompt"},
		{5, 0, "max tokens"},
		{20, 11, "model length"},
		{20, 10, ""},
	} {
		err := s.Check(c.prompt, c.max)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Fatalf("Check(%d, %d) = %v, want %q", c.prompt, c.max, err, c.want)
		}
	}
	cfg.MaxModelLen = 0
	s, _ = newSched(t, cfg)
	if err := s.Check(30, 3); err == nil || !strings.Contains(err.Error(), "KV cache") {
		t.Fatalf("Check over the KV capacity: %v", err)
	}
	add(t, s, 1, prompt(3, 1), 3, 0)
	if err := s.Add(&Request{ID: 1, Prompt: prompt(3, 1), MaxTokens: 3}); err == nil {
		t.Fatal("accepted a duplicate id")
	}
	out := s.Schedule()
	if err := s.Update(out, nil); err == nil {
		t.Fatal("Update without the sampled token did not fail")
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("New accepted an empty config")
	}
}

// Check reads only the configuration, so the engine may call it from request
// goroutines while the step loop runs (this test is for -race).
func TestCheckConcurrentWithSteps(t *testing.T) {
	s, m := newSched(t, testConfig(64, 4, 16))
	for i := range 8 {
		add(t, s, uint64(i+1), prompt(9, int32(i)), 6, 0)
	}
	done := make(chan error)
	go func() {
		var err error
		for i := range 1000 {
			if e := s.Check(1+i%50, 1+i%7); e != nil && err == nil {
				err = e
			}
		}
		done <- err
	}()
	m.drain(200)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkDrained(t, s)
}

// BenchmarkScheduleDecode measures one step of 256 running decodes: the
// scheduler's cost per step, which must stay small beside the forward pass.
func BenchmarkScheduleDecode(b *testing.B) {
	const seqs, maxTokens = 256, 512
	s, err := New(testConfig(seqs*(100+maxTokens)/16+seqs, 16, 8192))
	if err != nil {
		b.Fatal(err)
	}
	next := uint64(1)
	sampled := make(map[uint64][]int32)
	refill := func() {
		for id := range sampled {
			s.Abort(id)
		}
		clear(sampled)
		for i := range seqs {
			if err := s.Add(&Request{ID: next, Prompt: prompt(100, int32(i)), MaxTokens: maxTokens}); err != nil {
				b.Fatal(err)
			}
			sampled[next] = []int32{1}
			next++
		}
		// Prefill until every request decodes.
		for {
			out := s.Schedule()
			if err := s.Update(out, sampled); err != nil {
				b.Fatal(err)
			}
			if len(out.Scheduled) == seqs && out.NumScheduledTokens == seqs {
				return
			}
		}
	}
	refill()
	b.ReportAllocs()
	for b.Loop() {
		if s.NumUnfinished() < seqs {
			b.StopTimer()
			refill()
			b.StartTimer()
		}
		out := s.Schedule()
		if len(out.Scheduled) != seqs || out.NumScheduledTokens != seqs {
			b.Fatalf("%d scheduled, stats %+v, unfinished %d", len(out.Scheduled), out.Stats, s.NumUnfinished())
		}
		if err := s.Update(out, sampled); err != nil {
			b.Fatal(err)
		}
	}
}
