package quality

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// bpwTicks label the log-scaled bits-per-weight axis at readable values.
func bpwTicks(lo, hi float64) plot.ConstantTicks {
	var t plot.ConstantTicks
	for _, v := range []float64{2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32} {
		if v >= lo*0.95 && v <= hi*1.05 {
			t = append(t, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
		}
	}
	return t
}

// WriteChart draws two panels into a PNG at path: mean KLD against the first
// row (log scale) and generation speed, both against bits per weight (log
// scale), each point labelled with its type.
func WriteChart(rows []Row, title, path string) error {
	if len(rows) == 0 {
		return errors.New("quality: nothing to chart")
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		lo, hi = math.Min(lo, r.BitsPerWeight), math.Max(hi, r.BitsPerWeight)
	}
	panel := func(ttl, ylabel string) *plot.Plot {
		p := plot.New()
		p.Title.Text = ttl
		p.X.Label.Text = "bits per weight (log scale)"
		p.Y.Label.Text = ylabel
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = bpwTicks(lo, hi)
		p.X.Min, p.X.Max = lo/1.12, hi*1.12
		p.Add(plotter.NewGrid())
		return p
	}
	points := func(p *plot.Plot, xys plotter.XYs, labels []string, c color.Color) error {
		if len(xys) == 0 {
			return nil
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return fmt.Errorf("quality: chart: %w", err)
		}
		s.Color = c
		s.Shape = draw.CircleGlyph{}
		s.Radius = vg.Points(3)
		// Types that came out as the same file (small models fall back to
		// the same formats) share one point and one label.
		var lxy plotter.XYs
		var ltext []string
		for i, xy := range xys {
			j := slices.IndexFunc(lxy, func(o plotter.XY) bool {
				return math.Abs(o.X-xy.X) < 1e-9 && math.Abs(o.Y-xy.Y) <= 1e-9*math.Abs(xy.Y)
			})
			if j < 0 {
				lxy = append(lxy, xy)
				ltext = append(ltext, labels[i])
			} else {
				ltext[j] += " " + labels[i]
			}
		}
		p.Add(s)
		// Alternate labels above and below their points, so neighbours
		// overlap less.
		for half := 0; half < 2; half++ {
			var hxy plotter.XYs
			var htext []string
			for i := half; i < len(lxy); i += 2 {
				hxy = append(hxy, lxy[i])
				htext = append(htext, ltext[i])
			}
			if len(hxy) == 0 {
				continue
			}
			l, err := plotter.NewLabels(plotter.XYLabels{XYs: hxy, Labels: htext})
			if err != nil {
				return fmt.Errorf("quality: chart: %w", err)
			}
			for i := range l.TextStyle {
				l.TextStyle[i].Font.Size = vg.Points(7)
			}
			l.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(2)}
			if half == 1 {
				l.Offset.Y = vg.Points(-9)
			}
			p.Add(l)
		}
		return nil
	}

	kld := panel("Mean KL divergence from "+rows[0].Type+" (log scale)", "mean KLD (nats per token)")
	kld.Y.Scale = plot.LogScale{}
	var kx plotter.XYs
	var kl []string
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, r := range rows[1:] {
		if r.KLD > 0 { // the first row compares with itself (0): no place on a log axis
			kx = append(kx, plotter.XY{X: r.BitsPerWeight, Y: r.KLD})
			kl = append(kl, r.Type)
			ymin, ymax = math.Min(ymin, r.KLD), math.Max(ymax, r.KLD)
		}
	}
	if len(kx) > 0 {
		// whole decades, so the log ticks frame the points
		kld.Y.Min = math.Pow(10, math.Floor(math.Log10(ymin)))
		kld.Y.Max = math.Pow(10, math.Ceil(math.Log10(ymax*1.5)))
		var ticks plot.ConstantTicks
		for e := math.Log10(kld.Y.Min); e <= math.Log10(kld.Y.Max)+0.5; e++ {
			ticks = append(ticks, plot.Tick{Value: math.Pow10(int(e)), Label: fmt.Sprintf("%g", math.Pow10(int(e)))})
		}
		kld.Y.Tick.Marker = ticks
	}
	if err := points(kld, kx, kl, color.RGBA{R: 200, G: 40, B: 40, A: 255}); err != nil {
		return err
	}

	tg := panel("Generation speed (greedy, one sequence)", "tokens per second")
	var tx plotter.XYs
	var tl []string
	top := 0.0
	for _, r := range rows {
		tx = append(tx, plotter.XY{X: r.BitsPerWeight, Y: r.TGTokensPerS})
		tl = append(tl, r.Type)
		top = math.Max(top, r.TGTokensPerS)
	}
	tg.Y.Min, tg.Y.Max = 0, top*1.2
	if err := points(tg, tx, tl, color.RGBA{R: 30, G: 90, B: 200, A: 255}); err != nil {
		return err
	}

	const w, h = 11 * vg.Inch, 4.5 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	if title != "" {
		sty := plot.New().Title.TextStyle
		sty.Font.Size = vg.Points(14)
		sty.XAlign = draw.XCenter
		sty.YAlign = draw.YTop
		dc.FillText(sty, vg.Point{X: w / 2, Y: h - vg.Points(6)}, title)
		dc = draw.Crop(dc, 0, 0, 0, -vg.Points(26))
	}
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(24), PadTop: vg.Points(6),
		PadBottom: vg.Points(8), PadLeft: vg.Points(8), PadRight: vg.Points(16)}
	kld.Draw(tiles.At(dc, 0, 0))
	tg.Draw(tiles.At(dc, 1, 0))

	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("quality: chart: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("quality: chart: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("quality: chart: %w", err)
	}
	return nil
}
