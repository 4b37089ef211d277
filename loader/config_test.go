package loader

import (
	"strings"
	"testing"

	"github.com/pagoda-llm/pagoda/model/bundled"
)

func TestModelConfigStories(t *testing.T) {
	f, err := Parse(bundled.Stories260K)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.ModelConfig()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Arch: "llama", Name: "llama", ContextLength: 2048, EmbeddingLength: 64, BlockCount: 5, FeedForwardLength: 172,
		HeadCount: 8, HeadCountKV: 4, HeadDim: 8, RopeDims: 8, RopeFreqBase: 10000, RopeScalingType: "none", RopeScalingFactor: 1,
		RopeOrigContext: 2048, YarnAttnFactor: 1, YarnBetaFast: 32, YarnBetaSlow: 1, RMSEpsilon: 1e-5, VocabSize: 512}
	if *c != want {
		t.Fatalf("got %+v\nwant %+v", *c, want)
	}
}

// withoutKey rebuilds the bundled file's metadata minus one key.
func withoutKey(t *testing.T, drop string, extra ...KV) *File {
	f, err := Parse(bundled.Stories260K)
	if err != nil {
		t.Fatal(err)
	}
	g := &File{kvIndex: map[string]int{}}
	for _, kv := range append(f.KV, extra...) {
		if kv.Key == drop {
			continue
		}
		if i, ok := g.kvIndex[kv.Key]; ok {
			g.KV[i] = kv
			continue
		}
		g.kvIndex[kv.Key] = len(g.KV)
		g.KV = append(g.KV, kv)
	}
	return g
}

func TestModelConfigErrors(t *testing.T) {
	for _, key := range []string{"general.architecture", "llama.context_length", "llama.embedding_length", "llama.block_count",
		"llama.feed_forward_length", "llama.attention.head_count", "llama.attention.layer_norm_rms_epsilon"} {
		_, err := withoutKey(t, key).ModelConfig()
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("missing %s: error %v should name it", key, err)
		}
	}
	cases := []struct {
		kv   KV
		want string
	}{
		{KV{"general.architecture", StringValue("gpt-j")}, `architecture "gpt-j" is not supported`},
		{KV{"llama.attention.head_count_kv", Uint32Value(3)}, "not a multiple of head_count_kv"},
		{KV{"llama.rope.dimension_count", Uint32Value(7)}, "must be even"},
		{KV{"llama.block_count", StringValue("five")}, `"llama.block_count" must be a non-negative integer`},
		{KV{"llama.rope.scaling.type", StringValue("longrope")}, "not supported"},
		{KV{"llama.attention.layer_norm_rms_epsilon", Float32Value(-1)}, "must be positive"},
	}
	for _, c := range cases {
		_, err := withoutKey(t, "", c.kv).ModelConfig()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%v: error %v should mention %q", c.kv.Key, c.kv.Value, err, c.want)
		}
	}
	c, err := withoutKey(t, "", KV{"llama.rope.scale_linear", Float32Value(4)}, KV{"llama.rope.freq_base", Float32Value(500000)}).ModelConfig()
	if err != nil || c.RopeScalingType != "linear" || c.RopeScalingFactor != 4 || c.RopeFreqBase != 500000 {
		t.Fatalf("linear scaling: %+v %v", c, err)
	}
}
