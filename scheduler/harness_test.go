package scheduler

import (
	"slices"
	"testing"
)

// The fake model stands in for the transformer. The "KV" of position p is a
// 64-bit value mixed from the token at p, p itself and every earlier
// position's KV, read through the block table as real attention would. The
// next token is drawn from the last position's KV. So an output is right only
// if every block table, slot mapping, prefix-cache hit and recompute after
// preemption put the right values in the right slots.

const (
	vocab   = 50
	stopTok = 0 // the fake engine finishes a request that samples it
)

func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func kvValue(tok int32, pos int, acc uint64) uint64 {
	return mix(uint64(uint32(tok)) ^ uint64(pos)<<32 ^ mix(acc))
}

func nextToken(kv uint64) int32 { return int32(mix(kv^0x5555) % vocab) }

// reference generates what a request produces when it runs alone, with no
// paging at all. With stop set, sampling stopTok ends it.
func reference(prompt []int32, maxTokens int, stop bool) (out []int32, reason FinishReason) {
	toks := slices.Clone(prompt)
	var kv []uint64
	for {
		for p := len(kv); p < len(toks); p++ {
			var acc uint64
			for q := range p {
				acc += kv[q] * uint64(q+1)
			}
			kv = append(kv, kvValue(toks[p], p, acc))
		}
		t := nextToken(kv[len(kv)-1])
		toks = append(toks, t)
		out = append(out, t)
		if len(out) >= maxTokens {
			return out, FinishLength
		}
		if stop && t == stopTok {
			return out, FinishStop
		}
	}
}

// fakeModel holds the paged KV values of all slots.
type fakeModel struct {
	t         testing.TB
	s         *Scheduler
	slots     []uint64
	written   []bool // slot written at least once
	stepWrite map[int32]bool
	stop      bool // finish requests that sample stopTok
	// midStep, if set, runs after the model and before Update, as a
	// cancellation arriving during the forward pass would.
	midStep func(out *Output)
}

func newFakeModel(t testing.TB, s *Scheduler) *fakeModel {
	n := s.cfg.NumBlocks * s.cfg.BlockSize
	return &fakeModel{t: t, s: s, slots: make([]uint64, n), written: make([]bool, n)}
}

// run executes one step's plan and returns the sampled tokens.
func (m *fakeModel) run(out *Output) map[uint64][]int32 {
	t := m.t
	t.Helper()
	bs := m.s.cfg.BlockSize
	pool := m.s.kv.Pool()
	m.stepWrite = make(map[int32]bool)
	sampled := make(map[uint64][]int32)
	for _, sc := range out.Scheduled {
		if len(sc.SlotMapping) != len(sc.Tokens) || len(sc.Tokens) == 0 {
			t.Fatalf("request %d: %d tokens, %d slots", sc.ID, len(sc.Tokens), len(sc.SlotMapping))
		}
		slot := func(pos int) int32 {
			return sc.BlockTable[pos/bs]*int32(bs) + int32(pos%bs)
		}
		for k, tok := range sc.Tokens {
			pos := sc.Start + k
			if sc.SlotMapping[k] != slot(pos) {
				t.Fatalf("request %d pos %d: slot %d, table says %d", sc.ID, pos, sc.SlotMapping[k], slot(pos))
			}
			var acc uint64
			for q := range pos {
				s := slot(q)
				if !m.written[s] {
					t.Fatalf("request %d pos %d reads slot %d never written", sc.ID, pos, s)
				}
				if q < sc.Start && m.stepWrite[s] {
					// A batched forward computes all requests at once: KV
					// from before this step must not be written in it.
					t.Fatalf("request %d pos %d reads slot %d written in the same step", sc.ID, pos, s)
				}
				acc += m.slots[s] * uint64(q+1)
			}
			s := sc.SlotMapping[k]
			if m.stepWrite[s] {
				t.Fatalf("slot %d written twice in one step", s)
			}
			if refs := pool.RefCount(s / int32(bs)); refs != 1 {
				t.Fatalf("request %d writes block %d shared by %d requests", sc.ID, s/int32(bs), refs)
			}
			m.stepWrite[s] = true
			m.written[s] = true
			m.slots[s] = kvValue(tok, pos, acc)
		}
		if sc.Sample {
			last := sc.SlotMapping[len(sc.SlotMapping)-1]
			sampled[sc.ID] = []int32{nextToken(m.slots[last])}
		}
	}
	return sampled
}

// step runs Schedule, the fake model, Update and the engine's stop check,
// verifying block accounting along the way.
func (m *fakeModel) step() *Output {
	t := m.t
	t.Helper()
	out := m.s.Schedule()
	if err := m.s.kv.Verify(); err != nil {
		t.Fatalf("after Schedule: %v", err)
	}
	sampled := m.run(out)
	if m.midStep != nil {
		m.midStep(out)
	}
	if err := m.s.Update(out, sampled); err != nil {
		t.Fatal(err)
	}
	for id, toks := range sampled {
		if m.stop && toks[0] == stopTok {
			m.s.Finish(id, FinishStop) // no-op if Update finished it at length
		}
	}
	if err := m.s.kv.Verify(); err != nil {
		t.Fatalf("after Update: %v", err)
	}
	return out
}

// checkDrained asserts that no request is left and every block is free.
func checkDrained(t testing.TB, s *Scheduler) {
	t.Helper()
	if n := s.NumUnfinished(); n != 0 {
		t.Fatalf("%d requests unfinished", n)
	}
	if err := s.kv.Verify(); err != nil {
		t.Fatal(err)
	}
	st := s.kv.Stats()
	if st.BlocksInUse != 0 || s.kv.Pool().NumFree() != st.NumBlocks || s.kv.NumRequests() != 0 {
		t.Fatalf("%d of %d blocks still in use, state kept for %d requests", st.BlocksInUse, st.NumBlocks, s.kv.NumRequests())
	}
}

func (m *fakeModel) checkOutput(r *Request) {
	t := m.t
	t.Helper()
	want, reason := reference(r.Prompt, r.MaxTokens, m.stop)
	if !slices.Equal(r.OutputTokens(), want) || r.FinishReason() != reason {
		t.Fatalf("request %d: output %v (%v), alone it gives %v (%v)", r.ID, r.OutputTokens(), r.FinishReason(), want, reason)
	}
}

// drain steps until every request has finished.
func (m *fakeModel) drain(maxSteps int) {
	m.t.Helper()
	for range maxSteps {
		if m.s.NumUnfinished() == 0 {
			return
		}
		m.step()
	}
	m.t.Fatalf("%d requests unfinished after %d steps", m.s.NumUnfinished(), maxSteps)
}
