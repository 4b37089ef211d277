package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// PlotRun is one result file as the plot reads it. Any file with vLLM's
// field names works, including `vllm bench serve` results.
type PlotRun struct {
	Name   string             // shown for the run: its label, else the file name
	Series string             // runs with the same label form one line
	Rate   float64            // request_rate; +Inf for "inf", NaN when absent
	Values map[string]float64 // the numeric top-level fields
}

// LoadPlotRun reads a result JSON file.
func LoadPlotRun(path string) (PlotRun, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return PlotRun{}, fmt.Errorf("bench: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return PlotRun{}, fmt.Errorf("bench: %s: %w", path, err)
	}
	r := PlotRun{Rate: math.NaN(), Values: map[string]float64{}}
	for k, v := range m {
		if f, ok := v.(float64); ok {
			r.Values[k] = f
		}
	}
	switch v := m["request_rate"].(type) {
	case float64:
		r.Rate = v
	case string:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			r.Rate = f
		}
	}
	if l, ok := m["label"].(string); ok {
		r.Series = l
	}
	r.Name = r.Series
	if r.Name == "" {
		r.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if _, ok := r.Values["output_throughput"]; !ok {
		return PlotRun{}, fmt.Errorf("bench: %s: no output_throughput: not a serving benchmark result", path)
	}
	return r, nil
}

// latency value of a run: pNN_<metric>_ms, with the median standing in for
// p50 (vLLM's default result has no p50 keys).
func (r PlotRun) latency(metric, p string) (float64, bool) {
	if v, ok := r.Values["p"+p+"_"+metric+"_ms"]; ok {
		return v, true
	}
	if p == "50" {
		v, ok := r.Values["median_"+metric+"_ms"]
		return v, ok
	}
	return 0, false
}

// rateText prints a request rate for axis labels.
func rateText(r float64) string {
	switch {
	case math.IsInf(r, 1):
		return "inf"
	case math.IsNaN(r):
		return "?"
	}
	return strconv.FormatFloat(r, 'g', 4, 64)
}

// WritePlot draws four panels into a PNG: output token throughput and the
// p50/p99 of TTFT, TPOT and ITL. When every run has a finite request rate
// (and no label repeats a rate), x is the request rate and each label is a
// line; otherwise each run is one category on the x axis.
func WritePlot(runs []PlotRun, title, path string) error {
	if len(runs) == 0 {
		return errors.New("bench: nothing to plot")
	}
	numeric := true
	seen := map[string]bool{}
	for _, r := range runs {
		key := r.Series + "\x00" + rateText(r.Rate)
		if math.IsNaN(r.Rate) || math.IsInf(r.Rate, 0) || seen[key] {
			numeric = false
		}
		seen[key] = true
	}

	type series struct {
		name string
		runs []PlotRun
	}
	var groups []series
	var names []string
	if numeric {
		idx := map[string]int{}
		for _, r := range runs {
			i, ok := idx[r.Series]
			if !ok {
				i = len(groups)
				idx[r.Series] = i
				groups = append(groups, series{name: r.Series})
			}
			groups[i].runs = append(groups[i].runs, r)
		}
		for _, g := range groups {
			slices.SortFunc(g.runs, func(a, b PlotRun) int {
				return cmpFloat(a.Rate, b.Rate)
			})
		}
	} else {
		groups = []series{{runs: runs}}
		for _, r := range runs {
			names = append(names, r.Name+" @"+rateText(r.Rate))
		}
	}
	// Ticks at the measured rates only.
	var rateTicks plot.ConstantTicks
	if numeric {
		seenRate := map[float64]bool{}
		for _, r := range runs {
			if !seenRate[r.Rate] {
				seenRate[r.Rate] = true
				rateTicks = append(rateTicks, plot.Tick{Value: r.Rate, Label: rateText(r.Rate)})
			}
		}
		slices.SortFunc(rateTicks, func(a, b plot.Tick) int { return cmpFloat(a.Value, b.Value) })
	}
	xOf := func(r PlotRun, i int) float64 {
		if numeric {
			return r.Rate
		}
		return float64(i)
	}
	legendName := func(g series, suffix string) string {
		switch {
		case g.name == "" && suffix == "":
			return "output tok/s"
		case g.name == "":
			return suffix
		case suffix == "":
			return g.name
		}
		return g.name + " " + suffix
	}

	newPanel := func(ttl, ylabel string) *plot.Plot {
		p := plot.New()
		p.Title.Text = ttl
		p.Y.Label.Text = ylabel
		p.Y.Min = 0
		if numeric {
			p.X.Label.Text = "request rate (req/s)"
			p.X.Tick.Marker = rateTicks
		} else {
			p.NominalX(names...)
			p.X.Tick.Label.Rotation = math.Pi / 8
			p.X.Tick.Label.XAlign = draw.XRight
		}
		p.Add(plotter.NewGrid())
		p.Legend.Top = true
		p.Legend.Left = true
		return p
	}
	addLine := func(p *plot.Plot, pts plotter.XYs, name string, colorIdx int, dashed bool) error {
		if len(pts) == 0 {
			return nil
		}
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("bench: plot: %w", err)
		}
		c := plotutil.Color(colorIdx)
		l.Color, s.Color = c, c
		l.Width = vg.Points(1.5)
		s.Shape = plotutil.Shape(colorIdx)
		s.Radius = vg.Points(3)
		if dashed {
			l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		p.Add(l, s)
		p.Legend.Add(name, l, s)
		return nil
	}
	// In categorical mode the runs are unrelated, so bars, not lines: k bars
	// per category side by side.
	addBars := func(p *plot.Plot, vals plotter.Values, name string, idx, k int) error {
		const barW = 18
		b, err := plotter.NewBarChart(vals, vg.Points(barW))
		if err != nil {
			return fmt.Errorf("bench: plot: %w", err)
		}
		b.Color = plotutil.Color(idx)
		b.LineStyle.Width = 0
		b.Offset = vg.Points(barW * (float64(idx) - float64(k-1)/2))
		p.Add(b)
		p.Legend.Add(name, b)
		return nil
	}
	// headroom leaves the top of each panel to its legend.
	headroom := func(p *plot.Plot, vals ...float64) {
		top := 0.0
		for _, v := range vals {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				top = max(top, v)
			}
		}
		if top > 0 {
			p.Y.Max = top * 1.35
		}
	}

	thr := newPanel("Output token throughput", "tok/s")
	var all []float64
	for gi, g := range groups {
		var pts plotter.XYs
		var vals plotter.Values
		for i, r := range g.runs {
			v := r.Values["output_throughput"]
			pts = append(pts, plotter.XY{X: xOf(r, i), Y: v})
			vals = append(vals, v)
			all = append(all, v)
		}
		var err error
		if numeric {
			err = addLine(thr, pts, legendName(g, ""), gi, false)
		} else {
			err = addBars(thr, vals, "output tok/s", 0, 1)
		}
		if err != nil {
			return err
		}
	}
	headroom(thr, all...)
	panels := [][]*plot.Plot{{thr, nil}, {nil, nil}}
	for pi, m := range []struct{ key, title string }{
		{"ttft", "Time to first token"},
		{"tpot", "Time per output token"},
		{"itl", "Inter-token latency"},
	} {
		p := newPanel(m.title, "ms")
		all = all[:0]
		for gi, g := range groups {
			for ci, pc := range []string{"50", "99"} {
				var pts plotter.XYs
				var vals plotter.Values
				for i, r := range g.runs {
					v, ok := r.latency(m.key, pc)
					if ok {
						pts = append(pts, plotter.XY{X: xOf(r, i), Y: v})
						all = append(all, v)
					}
					vals = append(vals, v) // 0 where the file lacks it
				}
				var err error
				if numeric {
					err = addLine(p, pts, legendName(g, "p"+pc), gi, pc == "99")
				} else if len(pts) > 0 {
					err = addBars(p, vals, "p"+pc, ci, 2)
				}
				if err != nil {
					return err
				}
			}
		}
		headroom(p, all...)
		pos := pi + 1
		panels[pos/2][pos%2] = p
	}

	const w, h = 12 * vg.Inch, 8 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	if title != "" {
		sty := plot.New().Title.TextStyle
		sty.Font.Size = vg.Points(16)
		sty.XAlign = draw.XCenter
		sty.YAlign = draw.YTop
		dc.FillText(sty, vg.Point{X: w / 2, Y: h - vg.Points(6)}, title)
		dc = draw.Crop(dc, 0, 0, 0, -vg.Points(30))
	}
	tiles := draw.Tiles{Rows: 2, Cols: 2, PadX: vg.Points(24), PadY: vg.Points(18),
		PadTop: vg.Points(8), PadBottom: vg.Points(8), PadLeft: vg.Points(8), PadRight: vg.Points(12)}
	canvases := plot.Align(panels, tiles, dc)
	for i := range panels {
		for j := range panels[i] {
			panels[i][j].Draw(canvases[i][j])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: plot: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("bench: plot: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bench: plot: %w", err)
	}
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
