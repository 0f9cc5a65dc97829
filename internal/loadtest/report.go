package loadtest

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// WriteHTML writes the report as one self-contained HTML page: styles and
// charts (SVG drawn here, not by a script) are inline, and the page loads
// nothing from the network, so it can be archived, mailed or attached to
// a CI run as it is.
func (rep *Report) WriteHTML(w io.Writer) error {
	t, err := template.New("report").Funcs(template.FuncMap{
		"ms":     fmtMillis,
		"num":    fmtNumber,
		"errors": fmtErrors,
	}).Parse(reportTemplate)
	if err != nil {
		return err
	}
	var cards []card
	for i, s := range rep.Scenarios {
		cards = append(cards, card{Result: s, Color: palette(i), Histogram: distributionChart(s, palette(i)), Timeline: timelineChart(s, palette(i))})
	}
	return t.Execute(w, struct {
		*Report
		Throughput template.HTML
		Latency    template.HTML
		Cards      []card
	}{rep, throughputChart(rep.Scenarios), latencyChart(rep.Scenarios), cards})
}

type card struct {
	Result
	Color     string
	Histogram template.HTML
	Timeline  template.HTML
}

// palette returns the colour of the i-th scenario.
func palette(i int) string {
	colors := []string{"#2563eb", "#059669", "#d97706", "#7c3aed", "#dc2626", "#0891b2", "#db2777", "#4d7c0f"}
	return colors[i%len(colors)]
}

func fmtMillis(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	case v >= 1:
		return fmt.Sprintf("%.2f ms", v)
	default:
		return fmt.Sprintf("%.0f µs", v*1000)
	}
}

// fmtBound formats a round bound (an axis tick or a bin's edge) compactly:
// 500µs, 2ms, 1s.
func fmtBound(ms float64) string {
	switch {
	case ms >= 1000:
		return strconvG(ms/1000) + "s"
	case ms >= 1:
		return strconvG(ms) + "ms"
	default:
		return strconvG(ms*1000) + "µs"
	}
}

func strconvG(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

func fmtNumber(v float64) string {
	if v >= 100 {
		s := fmt.Sprintf("%.0f", v)
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteRune(' ')
			}
			b.WriteRune(c)
		}
		return b.String()
	}
	return fmt.Sprintf("%.1f", v)
}

func fmtErrors(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// esc escapes text for SVG.
func esc(s string) string { return template.HTMLEscapeString(s) }

// niceMax rounds v up to 1, 2 or 5 times a power of ten, for axis ends.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// throughputChart draws requests per second per scenario as horizontal
// bars.
func throughputChart(rs []Result) template.HTML {
	const left, width, row = 170, 520, 30
	height := len(rs)*row + 40
	top := 0.0
	for _, r := range rs {
		top = max(top, r.RequestsPerSecond)
	}
	top = niceMax(top)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" role="img" aria-label="Throughput per scenario">`, left+width+90, height)
	for i := 0; i <= 4; i++ {
		x := left + float64(width)*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%.1f" y1="4" x2="%.1f" y2="%d" class="grid"/><text x="%.1f" y="%d" class="axis" text-anchor="middle">%s</text>`,
			x, x, height-24, x, height-8, fmtNumber(top*float64(i)/4))
	}
	for i, r := range rs {
		y := 8 + i*row
		w := float64(width) * r.RequestsPerSecond / top
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="label" text-anchor="end">%s</text>`, left-10, y+16, esc(r.Name))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="20" rx="3" fill="%s"><title>%s: %s req/s</title></rect>`, left, y, w, palette(i), esc(r.Name), fmtNumber(r.RequestsPerSecond))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="value">%s/s</text>`, float64(left)+w+6, y+15, fmtNumber(r.RequestsPerSecond))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// latencyChart draws p50, p90 and p99 per scenario on a logarithmic axis,
// with the maximum as a tick, so that fast reads and slow writes share one
// readable scale.
func latencyChart(rs []Result) template.HTML {
	const left, width, row = 170, 520, 36
	height := len(rs)*row + 44
	lo, hi := math.Inf(1), 0.0
	for _, r := range rs {
		if r.Latency.P50 > 0 {
			lo = min(lo, r.Latency.P50)
		}
		hi = max(hi, r.Latency.Max)
	}
	if hi <= 0 {
		return template.HTML(`<p class="muted">No latencies were recorded.</p>`)
	}
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi = math.Pow(10, math.Ceil(math.Log10(hi)))
	if hi <= lo {
		hi = lo * 10
	}
	x := func(v float64) float64 {
		v = min(max(v, lo), hi)
		return left + float64(width)*math.Log10(v/lo)/math.Log10(hi/lo)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" role="img" aria-label="Latency percentiles per scenario">`, left+width+170, height)
	for d := lo; d <= hi*1.0001; d *= 10 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="4" x2="%.1f" y2="%d" class="grid"/><text x="%.1f" y="%d" class="axis" text-anchor="middle">%s</text>`,
			x(d), x(d), height-28, x(d), height-12, fmtBound(d))
	}
	shades := []struct {
		name    string
		opacity float64
	}{{"p99", 0.35}, {"p90", 0.6}, {"p50", 1}}
	for i, r := range rs {
		y := 8 + i*row
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="label" text-anchor="end">%s</text>`, left-10, y+19, esc(r.Name))
		vals := map[string]float64{"p50": r.Latency.P50, "p90": r.Latency.P90, "p99": r.Latency.P99}
		for _, s := range shades {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="26" rx="3" fill="%s" fill-opacity="%.2f"><title>%s %s: %s</title></rect>`,
				left, y, x(vals[s.name])-left, palette(i), s.opacity, esc(r.Name), s.name, fmtMillis(vals[s.name]))
		}
		mx := x(r.Latency.Max)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2"><title>%s max: %s</title></line>`, mx, y-2, mx, y+28, palette(i), esc(r.Name), fmtMillis(r.Latency.Max))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="value">p99 %s · max %s</text>`, mx+8, y+17, fmtMillis(r.Latency.P99), fmtMillis(r.Latency.Max))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// distributionChart draws one scenario's latency histogram: one bar per
// bin (bounds 1-2-5 × 10^n), the share of requests in it.
func distributionChart(r Result, color string) template.HTML {
	bins := r.Distribution
	if len(bins) == 0 {
		return ""
	}
	const width, height, bottom = 420, 150, 30
	var total, peak uint64
	for _, bn := range bins {
		total += bn.Count
		peak = max(peak, bn.Count)
	}
	bw := float64(width) / float64(len(bins))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" role="img" aria-label="Latency distribution of %s">`, width, height+bottom, esc(r.Name))
	for i, bn := range bins {
		h := float64(height-14) * float64(bn.Count) / float64(peak)
		x := float64(i) * bw
		share := 100 * float64(bn.Count) / float64(total)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="2" fill="%s"><title>≤ %s: %d requests (%.1f%%)</title></rect>`,
			x+2, float64(height)-h, bw-4, h, color, fmtMillis(bn.UpToMillis), bn.Count, share)
		if share >= 1 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tiny" text-anchor="middle">%.0f%%</text>`, x+bw/2, float64(height)-h-3, share)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="tiny" text-anchor="middle">≤%s</text>`, x+bw/2, height+14, fmtBound(bn.UpToMillis))
	}
	fmt.Fprintf(&b, `<line x1="0" y1="%d" x2="%d" y2="%d" class="grid"/>`, height, width, height)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// timelineChart draws one scenario's throughput over time, to show warm-up,
// stalls or a decline during the run.
func timelineChart(r Result, color string) template.HTML {
	pts := r.Throughput
	if len(pts) < 2 {
		return ""
	}
	const width, height = 420, 120
	top := 0.0
	for _, p := range pts {
		top = max(top, p)
	}
	top = niceMax(top)
	var line strings.Builder
	for i, p := range pts {
		fmt.Fprintf(&line, "%.1f,%.1f ", float64(width)*float64(i)/float64(len(pts)-1), float64(height)*(1-p/top))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 -12 %d %d" role="img" aria-label="Throughput over time of %s">`, width, height+30, esc(r.Name))
	fmt.Fprintf(&b, `<line x1="0" y1="0" x2="%d" y2="0" class="grid"/><text x="2" y="-2" class="tiny">%s/s</text>`, width, fmtNumber(top))
	fmt.Fprintf(&b, `<line x1="0" y1="%d" x2="%d" y2="%d" class="grid"/>`, height, width, height)
	fmt.Fprintf(&b, `<polyline points="%s %d,%d 0,%d" fill="%s" fill-opacity="0.12" stroke="none"/>`, line.String(), width, height, height, color)
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round"/>`, line.String(), color)
	fmt.Fprintf(&b, `<text x="0" y="%d" class="tiny">0 s</text><text x="%d" y="%d" class="tiny" text-anchor="end">%.1f s</text>`, height+14, width, height+14, r.Seconds)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

const reportTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ferry bench — {{.Target}}</title>
<style>
:root { --fg:#0f172a; --muted:#64748b; --line:#e2e8f0; --bg:#f8fafc; --card:#fff; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:var(--bg); }
main { max-width:1100px; margin:0 auto; padding:32px 24px 48px; }
h1 { font-size:24px; margin:0 0 4px; }
h2 { font-size:17px; margin:32px 0 12px; }
h3 { font-size:15px; margin:0; }
.muted { color:var(--muted); }
.facts { display:flex; flex-wrap:wrap; gap:12px; margin:20px 0; }
.fact { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:10px 16px; min-width:130px; }
.fact b { display:block; font-size:20px; }
.panel, .card { background:var(--card); border:1px solid var(--line); border-radius:12px; padding:18px 20px; }
table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
th, td { text-align:right; padding:7px 10px; border-bottom:1px solid var(--line); white-space:nowrap; }
th:first-child, td:first-child { text-align:left; }
th { font-size:12px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); font-weight:600; }
td.bad { color:#dc2626; font-weight:600; }
.dot { display:inline-block; width:10px; height:10px; border-radius:50%; margin-right:8px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(480px,1fr)); gap:16px; }
.card p { margin:4px 0 10px; }
.stats { display:flex; gap:18px; margin:8px 0 12px; font-variant-numeric:tabular-nums; }
.stats span b { display:block; font-size:16px; }
svg { width:100%; height:auto; overflow:visible; }
svg .grid { stroke:var(--line); stroke-width:1; }
svg .axis, svg .tiny { fill:var(--muted); font-size:10px; }
svg .label { fill:var(--fg); font-size:12px; }
svg .value { fill:var(--fg); font-size:11px; font-weight:600; }
.sub { font-size:12px; color:var(--muted); margin:8px 0 2px; }
.error { color:#dc2626; font-size:12px; word-break:break-all; }
</style>
</head>
<body>
<main>
<h1>ferry bench</h1>
<div class="muted">{{.Target}} · started {{.Started.Format "2006-01-02 15:04:05 UTC"}}</div>
<div class="facts">
  <div class="fact"><span class="muted">users seeded</span><b>{{.Seed.Users}}</b></div>
  <div class="fact"><span class="muted">groups seeded</span><b>{{.Seed.Groups}}</b></div>
  <div class="fact"><span class="muted">concurrency</span><b>{{.Concurrency}}</b></div>
  <div class="fact"><span class="muted">per scenario</span><b>{{.Duration}}</b></div>
  <div class="fact"><span class="muted">seeding</span><b>{{printf "%.1f" .Seed.Seconds}} s</b><span class="muted">{{num .Seed.RequestsPerSecond}} req/s</span></div>
</div>

<h2>Summary</h2>
<div class="panel">
<table>
<tr><th>Scenario</th><th>Requests</th><th>Req/s</th><th>p50</th><th>p90</th><th>p99</th><th>Max</th><th>Errors</th>{{if .Ceiling}}<th>Of ceiling</th>{{end}}</tr>
{{if .Ceiling}}<tr><td>ceiling ({{.Ceiling.Bytes}} bytes, static)</td><td>{{.Ceiling.Result.Requests}}</td><td>{{num .Ceiling.Result.RequestsPerSecond}}</td>
<td>{{ms .Ceiling.Result.Latency.P50}}</td><td>{{ms .Ceiling.Result.Latency.P90}}</td><td>{{ms .Ceiling.Result.Latency.P99}}</td><td>{{ms .Ceiling.Result.Latency.Max}}</td><td>{{errors .Ceiling.Result.ErrorsByStatus}}</td><td>1.00</td></tr>{{end}}
{{range $i, $s := .Cards}}<tr>
<td><span class="dot" style="background:{{.Color}}"></span>{{.Name}}</td>
<td>{{.Requests}}</td><td>{{num .RequestsPerSecond}}</td>
<td>{{ms .Latency.P50}}</td><td>{{ms .Latency.P90}}</td><td>{{ms .Latency.P99}}</td><td>{{ms .Latency.Max}}</td>
<td{{if .Errors}} class="bad"{{end}}>{{errors .ErrorsByStatus}}</td>{{if $.Ceiling}}<td>{{printf "%.2f" .CeilingRatio}}</td>{{end}}
</tr>{{end}}
</table>
</div>

<h2>Throughput</h2>
<div class="panel">{{.Throughput}}</div>

<h2>Latency percentiles</h2>
<div class="panel">{{.Latency}}<div class="sub">Bars: p50 (solid), p90, p99 (lightest); the tick is the maximum. Logarithmic scale.</div></div>

<h2>Scenarios</h2>
<div class="cards">
{{range .Cards}}<div class="card">
<h3><span class="dot" style="background:{{.Color}}"></span>{{.Name}}</h3>
<p class="muted">{{.Description}}</p>
<div class="stats">
<span class="muted">req/s<b style="color:var(--fg)">{{num .RequestsPerSecond}}</b></span>
<span class="muted">p50<b style="color:var(--fg)">{{ms .Latency.P50}}</b></span>
<span class="muted">p99<b style="color:var(--fg)">{{ms .Latency.P99}}</b></span>
<span class="muted">errors<b style="color:var(--fg)">{{.Errors}}</b></span>
</div>
<div class="sub">Latency distribution (share of requests per bucket)</div>
{{.Histogram}}
<div class="sub">Throughput over time</div>
{{.Timeline}}
{{if .FirstError}}<div class="error">first error: {{.FirstError}}</div>{{end}}
</div>{{end}}
</div>
<p class="muted" style="margin-top:32px">Generated by <code>ferry bench</code>. Latencies are measured by the client over HTTP, from sending a request to reading its whole response; percentiles come from a log-linear histogram accurate to 1.6%.</p>
</main>
</body>
</html>
`
