package quantize

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

const usage = `usage: pagoda quantize [options] IN.gguf OUT.gguf TYPE [THREADS]

Quantizes IN.gguf to OUT.gguf with llama-quantize's per-tensor recipes; the
output is byte-identical to llama-quantize's for the same command.

TYPE: %s

options:
  -t, --threads N             threads (default: all CPUs)
  --allow-requantize          allow quantizing tensors that are already quantized
  --pure                      no k-quant mixes: every tensor gets TYPE (row-size fallbacks still apply)
  --leave-output-tensor       keep output.weight as it is
  --output-tensor-type T      type of output.weight (e.g. q8_0, f16)
  --token-embedding-type T    type of token_embd.weight
  --tensor-type PATTERN=T     type of tensors whose name matches the regular expression PATTERN (repeatable; first match wins)
`

// Main runs `pagoda quantize` with args (without the subcommand name) and
// returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	o, in, out, err := parseArgs(args)
	if err != nil {
		if err == errHelp {
			fmt.Fprintf(stdout, usage, strings.Join(FtypeNames(), ", "))
			return 0
		}
		fmt.Fprintf(stderr, "pagoda quantize: %v\n\n", err)
		fmt.Fprintf(stderr, usage, strings.Join(FtypeNames(), ", "))
		return 2
	}
	fmt.Fprintf(stderr, "quantizing %s to %s as %s\n", in, out, o.Ftype)
	bar := newProgressWriter(stderr)
	sum, err := File(in, out, o, bar.tensor)
	bar.done()
	if err != nil {
		fmt.Fprintf(stderr, "pagoda quantize: %v\n", err)
		return 1
	}
	inBPW, outBPW := sum.BitsPerWeight()
	fmt.Fprintf(stdout, "model size  = %8.2f MiB (%.2f BPW)\n", mib(sum.InBytes), inBPW)
	fmt.Fprintf(stdout, "quant size  = %8.2f MiB (%.2f BPW)\n", mib(sum.OutBytes), outBPW)
	fmt.Fprintf(stdout, "file size   = %d bytes (%.1f%% of the input's tensor data)\n", sum.OutFileSize, 100*float64(sum.OutBytes)/float64(max(sum.InBytes, 1)))
	fmt.Fprintf(stdout, "tensors     = %d (%d converted, %d with a fallback type)\n", sum.Tensors, sum.Quantized, sum.Fallbacks)
	fmt.Fprintf(stdout, "time        = %.2f s\n", sum.Duration.Seconds())
	return 0
}

var errHelp = fmt.Errorf("help")

func parseArgs(args []string) (o Options, in, out string, err error) {
	var pos []string
	value := func(i *int, name string) (string, error) {
		if *i+1 >= len(args) {
			return "", fmt.Errorf("%s needs a value", name)
		}
		*i++
		return args[*i], nil
	}
	parseT := func(name, s string) (OptionalType, error) {
		t, ok := ParseType(s)
		if !ok {
			return OptionalType{}, fmt.Errorf("%s: unknown tensor type %q", name, s)
		}
		return OptionalType{Type: t, Set: true}, nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if name, val, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "--") {
			// --flag=value spelling
			args = append(args[:i:i], append([]string{name, val}, args[i+1:]...)...)
			a = name
		}
		var v string
		switch a {
		case "-h", "--help":
			return o, "", "", errHelp
		case "-t", "--threads":
			if v, err = value(&i, a); err != nil {
				return
			}
			if o.Threads, err = strconv.Atoi(v); err != nil || o.Threads < 1 {
				return o, "", "", fmt.Errorf("bad thread count %q", v)
			}
		case "--allow-requantize":
			o.AllowRequantize = true
		case "--pure":
			o.Pure = true
		case "--leave-output-tensor":
			o.LeaveOutputTensor = true
		case "--output-tensor-type":
			if v, err = value(&i, a); err != nil {
				return
			}
			if o.OutputTensorType, err = parseT(a, v); err != nil {
				return
			}
		case "--token-embedding-type":
			if v, err = value(&i, a); err != nil {
				return
			}
			if o.TokenEmbeddingType, err = parseT(a, v); err != nil {
				return
			}
		case "--tensor-type":
			if v, err = value(&i, a); err != nil {
				return
			}
			pat, ts, ok := strings.Cut(v, "=")
			if !ok || pat == "" || ts == "" {
				return o, "", "", fmt.Errorf("--tensor-type wants PATTERN=TYPE, got %q", v)
			}
			t, ok := ParseType(ts)
			if !ok {
				return o, "", "", fmt.Errorf("--tensor-type: unknown tensor type %q", ts)
			}
			// llama-quantize lowercases the pattern.
			o.TensorTypes = append(o.TensorTypes, TensorTypeOverride{Pattern: strings.ToLower(pat), Type: t})
		default:
			if strings.HasPrefix(a, "-") && len(a) > 1 {
				return o, "", "", fmt.Errorf("unknown option %s", a)
			}
			pos = append(pos, a)
		}
	}
	if len(pos) < 3 || len(pos) > 4 {
		return o, "", "", fmt.Errorf("want IN.gguf OUT.gguf TYPE [THREADS], got %d arguments", len(pos))
	}
	ft, ok := ParseFtype(pos[2])
	if !ok {
		return o, "", "", fmt.Errorf("unknown quantization type %q", pos[2])
	}
	o.Ftype = ft
	if len(pos) == 4 {
		n, err := strconv.Atoi(pos[3])
		if err != nil || n < 1 {
			return o, "", "", fmt.Errorf("bad thread count %q", pos[3])
		}
		o.Threads = n
	}
	return o, pos[0], pos[1], nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// progressWriter draws a bar on a terminal and prints one line per tensor
// otherwise (like llama-quantize's log).
type progressWriter struct {
	w    io.Writer
	tty  bool
	drew bool
}

func newProgressWriter(w io.Writer) *progressWriter {
	p := &progressWriter{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progressWriter) tensor(i, n int, c Choice, inBytes, outBytes int64) {
	if !p.tty {
		conv := ""
		if c.From != c.To {
			conv = fmt.Sprintf(", converting to %s", lowerName(c.To))
			if c.Fallback {
				conv += fmt.Sprintf(" (fallback from %s)", lowerName(c.Preferred))
			}
		}
		dims := make([]string, len(c.Shape))
		for k, d := range c.Shape {
			dims[k] = strconv.FormatInt(d, 10)
		}
		fmt.Fprintf(p.w, "[%4d/%4d] %-36s - [%s], type = %6s%s, size = %8.3f MiB -> %8.3f MiB\n",
			i+1, n, c.Name, strings.Join(dims, ", "), lowerName(c.From), conv, mib(inBytes), mib(outBytes))
		return
	}
	const width = 30
	done := (i + 1) * width / n
	name := c.Name
	if len(name) > 32 {
		name = name[:32]
	}
	fmt.Fprintf(p.w, "\r[%s%s] %4d/%-4d %-32s %-6s", strings.Repeat("=", done), strings.Repeat(" ", width-done), i+1, n, name, lowerName(c.To))
	p.drew = true
}

func (p *progressWriter) done() {
	if p.drew {
		fmt.Fprintln(p.w)
	}
}
