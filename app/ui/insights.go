package ui

// Insights (Community > Insights…, the owner and moderators): a chart of the last weeks —
// messages and active members — drawn with Fyne's canvas, and the figures beside it: first
// answers, polls' turnout, offers' claims, who brought new members.

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// barChart draws series of counts side by side for each label, with the counts over the bars,
// the labels under them and a legend on top.
type barChart struct {
	widget.BaseWidget
	labels []string
	names  []string // one per series
	series [][]int  // series[j][i]: series j's count for label i
}

func newBarChart(labels, names []string, series [][]int) *barChart {
	c := &barChart{labels: labels, names: names, series: series}
	c.ExtendBaseWidget(c)
	return c
}

// seriesColor is series j's colour, from the theme.
func seriesColor(j int) color.Color {
	if j == 0 {
		return theme.Color(theme.ColorNamePrimary)
	}
	return theme.Color(theme.ColorNameWarning)
}

func (c *barChart) CreateRenderer() fyne.WidgetRenderer {
	r := &chartRenderer{c: c}
	for j, name := range c.names {
		sw := canvas.NewRectangle(seriesColor(j))
		t := canvas.NewText(name, theme.Color(theme.ColorNameForeground))
		t.TextSize = theme.CaptionTextSize()
		r.legend = append(r.legend, sw, t)
	}
	for j := range c.series {
		var bars []*canvas.Rectangle
		var values []*canvas.Text
		for i := range c.labels {
			bars = append(bars, canvas.NewRectangle(seriesColor(j)))
			v := canvas.NewText(strconv.Itoa(c.series[j][i]), theme.Color(theme.ColorNameForeground))
			v.TextSize = theme.CaptionTextSize()
			v.Alignment = fyne.TextAlignCenter
			values = append(values, v)
		}
		r.bars = append(r.bars, bars)
		r.values = append(r.values, values)
	}
	for _, l := range c.labels {
		t := canvas.NewText(l, theme.Color(theme.ColorNamePlaceHolder))
		t.TextSize = theme.CaptionTextSize()
		t.Alignment = fyne.TextAlignCenter
		r.labels = append(r.labels, t)
	}
	r.axis = canvas.NewLine(theme.Color(theme.ColorNameSeparator))
	return r
}

type chartRenderer struct {
	c      *barChart
	legend []fyne.CanvasObject
	bars   [][]*canvas.Rectangle
	values [][]*canvas.Text
	labels []*canvas.Text
	axis   *canvas.Line
}

func (r *chartRenderer) MinSize() fyne.Size {
	return fyne.NewSize(float32(48*max(1, len(r.labels))), 220)
}

func (r *chartRenderer) Layout(size fyne.Size) {
	caption := theme.CaptionTextSize() + 6
	x := float32(0)
	for k := 0; k+1 < len(r.legend); k += 2 {
		r.legend[k].Resize(fyne.NewSize(12, 12))
		r.legend[k].Move(fyne.NewPos(x, 3))
		t := r.legend[k+1].(*canvas.Text)
		t.Move(fyne.NewPos(x+18, 0))
		t.Resize(t.MinSize())
		x += 18 + t.MinSize().Width + 24
	}
	top := caption + 4 + caption // the legend, then room for the counts over the tallest bar
	bottom := size.Height - caption
	plot := max(1, bottom-top)
	peak := 1
	for _, s := range r.c.series {
		for _, v := range s {
			peak = max(peak, v)
		}
	}
	n := max(1, len(r.labels))
	group := size.Width / float32(n)
	barW := group * 0.7 / float32(max(1, len(r.bars)))
	for i := range r.labels {
		left := group*float32(i) + group*0.15
		for j := range r.bars {
			h := plot * float32(r.c.series[j][i]) / float32(peak)
			bx := left + barW*float32(j)
			r.bars[j][i].Move(fyne.NewPos(bx, bottom-h))
			r.bars[j][i].Resize(fyne.NewSize(barW-2, h))
			v := r.values[j][i]
			v.Move(fyne.NewPos(bx, bottom-h-caption))
			v.Resize(fyne.NewSize(barW-2, caption))
		}
		r.labels[i].Move(fyne.NewPos(group*float32(i), bottom+2))
		r.labels[i].Resize(fyne.NewSize(group, caption))
	}
	r.axis.Position1 = fyne.NewPos(0, bottom)
	r.axis.Position2 = fyne.NewPos(size.Width, bottom)
}

func (r *chartRenderer) Refresh() {
	for j := range r.bars {
		for i := range r.bars[j] {
			r.bars[j][i].FillColor = seriesColor(j)
			r.bars[j][i].Refresh()
		}
	}
	r.Layout(r.c.Size())
}

func (r *chartRenderer) Objects() []fyne.CanvasObject {
	out := append([]fyne.CanvasObject{r.axis}, r.legend...)
	for j := range r.bars {
		for i := range r.bars[j] {
			out = append(out, r.bars[j][i], r.values[j][i])
		}
	}
	for _, l := range r.labels {
		out = append(out, l)
	}
	return out
}

func (r *chartRenderer) Destroy() {}

// waitText is a duration as a person reads it: 40 seconds, 14 minutes, 3 hours, 2 days.
func waitText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f hours", d.Hours())
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}

// openInsights reads the figures off the window's goroutine, then shows them.
func (v *CommunityView) openInsights() {
	id := v.cur
	if id.IsZero() {
		return
	}
	if v.myRole() < community.RoleModerator {
		v.s.show(dialog.NewInformation("Insights", "The owner and moderators see the community's insights.", v.s.win))
		return
	}
	go func() {
		in, err := v.s.svc.Insights(id, app.DefaultInsightWeeks)
		v.s.do(func() {
			if err != nil {
				v.s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), v.s.win))
				return
			}
			v.showInsights(in)
		})
	}()
}

// insightsContent is the chart and the figures.
func insightsContent(in app.Insights) fyne.CanvasObject {
	var labels []string
	msgs, active := make([]int, len(in.Weeks)), make([]int, len(in.Weeks))
	for i, w := range in.Weeks {
		labels = append(labels, w.Start.Format("2 Jan"))
		msgs[i], active[i] = w.Messages, w.Active
	}
	chart := newBarChart(labels, []string{"Messages", "Members who took part"}, [][]int{msgs, active})
	this := in.Weeks[len(in.Weeks)-1]
	var lines []string
	lines = append(lines, fmt.Sprintf("This week: %d of %d members took part, %d %s, %d new %s.", this.Active, in.Members,
		this.Messages, plural(this.Messages, "message", "messages"), this.NewMembers, plural(this.NewMembers, "member", "members")))
	asked, answered := 0, 0
	for _, w := range in.Weeks {
		asked += w.Questions
		answered += w.Answered
	}
	switch {
	case answered > 0:
		lines = append(lines, fmt.Sprintf("Questions: %d asked, %d answered; the first answer comes in %s (the median).", asked, answered, waitText(in.FirstAnswer)))
	case asked > 0:
		lines = append(lines, fmt.Sprintf("Questions: %d asked, none answered by another member yet.", asked))
	default:
		lines = append(lines, "Questions: none asked in these weeks.")
	}
	for _, p := range in.Polls {
		pct := 0
		if p.Members > 0 {
			pct = min(100, 100*p.Voters/p.Members)
		}
		lines = append(lines, fmt.Sprintf("Poll %q: %d of %d voted (%d%%).", clip(community.Printable(p.Question, false), 60), p.Voters, p.Members, pct))
	}
	for _, o := range in.Offers {
		lines = append(lines, fmt.Sprintf("Offer %q: %d of %d claimed.", clip(community.Printable(o.Title, false), 60), o.Claimed, o.Quantity))
	}
	if len(in.Brought) > 0 {
		var who []string
		for _, b := range in.Brought {
			who = append(who, fmt.Sprintf("%s %d", nameOr(b.Name), b.Count))
		}
		lines = append(lines, "New members were brought by: "+strings.Join(who, ", ")+".")
	}
	figures := wrapped(strings.Join(lines, "\n"))
	return container.NewVBox(chart, widget.NewSeparator(), figures)
}

func (v *CommunityView) showInsights(in app.Insights) {
	d := dialog.NewCustom(fmt.Sprintf("Insights: the last %d weeks", len(in.Weeks)), "Close", container.NewVScroll(insightsContent(in)), v.s.win)
	d.Resize(fyne.NewSize(720, 560))
	v.s.show(d)
}
