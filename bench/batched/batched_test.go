package batched

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestMainTableAndJSON(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"-npp", "16", "-ntg", "4", "-npl", "1,3", "-t", "1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "S_TG t/s") || strings.Count(out.String(), "\n|") != 4 {
		t.Fatalf("table:\n%s", out.String())
	}
	out.Reset()
	if code := Main([]string{"-npp", "8", "-ntg", "2", "-npl", "2", "-b", "5", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r map[string]any
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"pp", "tg", "pl", "n_kv", "t_pp", "speed_pp", "t_tg", "speed_tg", "t", "speed", "n_threads"} {
		if _, ok := r[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if r["n_kv"].(float64) != 20 || r["pl"].(float64) != 2 {
		t.Errorf("row %v", r)
	}
	for _, bad := range [][]string{{"-npl", "0"}, {"-npl", "x"}, {"-npp", "0"}, {"-npp", "5000"}, {"--kv-cache-type", "q1"}} {
		if Main(bad, &out, &errb) != 2 {
			t.Errorf("%v accepted", bad)
		}
	}
}
