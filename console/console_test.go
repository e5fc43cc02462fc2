package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	triggerstest.Cleanup()
	os.Exit(code)
}

type nopSinks struct{}

func (nopSinks) Emit(context.Context, string, []byte) error { return nil }

// screenshotDir is where TestConsoleInBrowser saves a PNG of each screen,
// for people reviewing changes to the console (ignored by git).
const screenshotDir = "screenshots"

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium binary on PATH (Debian: apt-get install chromium; .ci/run installs it): the console's browser test cannot run")
	return ""
}

func TestConsoleServesFiles(t *testing.T) {
	srv := eddytest.Start(t, server.Options{})
	for path, want := range map[string]string{
		"/console/":          `<script type="module" src="app.js">`,
		"/console/app.js":    "import * as tables from './tables.js'",
		"/console/style.css": ".record",
	} {
		resp, err := http.Get(srv.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, body lacks %q", path, resp.StatusCode, want)
		}
		if path == "/console/app.js" && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("app.js served as %q: browsers refuse a module that is not JavaScript", resp.Header.Get("Content-Type"))
		}
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(srv.URL() + "/console")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/console/" {
		t.Errorf("GET /console: %d to %q, want 301 to /console/", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = http.Post(srv.URL()+"/console/app.js", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /console/app.js: %d, want 405", resp.StatusCode)
	}
}

// TestConsoleInBrowser drives headless Chromium through the console as a
// user would: create a table with the form, add an item and edit it in the
// item editor, watch the change in the stream tail (open in a second tab),
// see the failing trigger's error, and redrive its dead letter once the
// function is fixed. Every wait is for an element or a text, bounded by
// the test's context.
func TestConsoleInBrowser(t *testing.T) {
	exe := chromium(t)
	srv := eddytest.Start(t, server.Options{Sinks: nopSinks{}, Mappings: mappings.Options{
		RetryBackoff: time.Millisecond, MaxRetryBackoff: 10 * time.Millisecond, ShardPollInterval: 20 * time.Millisecond}})
	base := srv.URL() + "/console/"
	start := time.Now()

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1280, 1000),
		chromedp.Flag("disable-dev-shm-usage", true))...)
	defer cancelAlloc()

	// Any uncaught exception in the page fails the test.
	var mu sync.Mutex
	var exceptions []string
	listen := func(tab context.Context, name string) {
		err := chromedp.Listen(tab, func(ev any) {
			if ev, ok := ev.(*runtime.EventExceptionThrown); ok {
				d := ev.ExceptionDetails
				msg := d.Text
				if d.Exception != nil {
					msg += " " + d.Exception.Description
				}
				mu.Lock()
				exceptions = append(exceptions, fmt.Sprintf("%s: %s (%s:%d)", name, msg, d.URL, d.LineNumber))
				mu.Unlock()
			}
		})
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
	}
	tab, cancelTab := chromedp.NewContext(alloc)
	defer cancelTab()
	listen(tab, "tab")
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range exceptions {
			t.Errorf("exception in the page: %s", e)
		}
	}()

	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			p := filepath.Join(screenshotDir, name+".png")
			if err := os.WriteFile(p, png, 0o644); err != nil {
				return err
			}
			abs, _ := filepath.Abs(p)
			t.Logf("screenshot %s (%d bytes)", abs, len(png))
			return nil
		})
	}
	run := func(tab context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		// Each step gets a minute, so a step that fails leaves time to
		// show the page it failed on.
		stepCtx, cancel := context.WithTimeout(tab, time.Minute)
		defer cancel()
		if err := chromedp.Do(stepCtx, actions...); err != nil {
			html, _ := chromedp.Run(tab, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("%s: %v\npage:\n%s", step, err, html)
		}
		t.Logf("%s: done at %.1fs", step, time.Since(start).Seconds())
	}
	textOf := func(tab context.Context, sel string) string {
		t.Helper()
		s, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	// waitText waits until sel's text contains want.
	waitText := func(sel, want string) chromedp.Action[chromedp.Void] {
		js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want)
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(time.Minute))(ctx, tg)
			return err
		})
	}

	// 1. Create a table through the form.
	run(tab, "create a table",
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.CSS("#create-table")),
		chromedp.Click(chromedp.CSS("#create-table")),
		chromedp.WaitVisible(chromedp.CSS("#ct-name")),
		chromedp.SendKeys(chromedp.CSS("#ct-name"), "orders"),
		chromedp.SendKeys(chromedp.CSS("#ct-pk"), "pk"),
		chromedp.Click(chromedp.CSS("#ct-submit")),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-table="orders"]`)),
		shot("1-tables"))
	if row := textOf(tab, `tr[data-table="orders"]`); !strings.Contains(row, "PAY_PER_REQUEST") || !strings.Contains(row, "NEW_AND_OLD_IMAGES") {
		t.Fatalf("the new table's row: %q", row)
	}
	desc, err := srv.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}

	// A trigger whose function fails on v = "bad", with no retries, so the
	// failing batch becomes a dead letter at once.
	srv.DeployGuest(t, "poison", "esm", map[string]string{"QUIET": "1", "FAIL_ON": "bad"})
	uuid := srv.Mapping(t, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String("poison"), EventSourceArn: desc.Table.LatestStreamArn,
		BatchSize: aws.Int32(5), MaximumRetryAttempts: aws.Int32(0)})

	// 2. Add an item in the editor; its 38-digit number survives.
	const digits = "12345678901234567890.123456789012345678"
	run(tab, "add an item",
		chromedp.Click(chromedp.CSS(`tr[data-table="orders"] a`)),
		chromedp.WaitVisible(chromedp.CSS("#new-item")),
		chromedp.Click(chromedp.CSS("#new-item")),
		chromedp.WaitVisible(chromedp.CSS("#item-json")),
		// A number written as a JSON number is refused by eddy, and the
		// editor shows the service's error instead of saving.
		chromedp.SetValue(chromedp.CSS("#item-json"), `{"pk": {"S": "k1"}, "n": {"N": 1}}`),
		chromedp.Click(chromedp.CSS("#item-save")),
		chromedp.WaitVisible(chromedp.CSS("#item-status .error")))
	t.Logf("the editor refused {\"N\": 1}: %s", textOf(tab, "#item-status .error"))
	run(tab, "save the item",
		chromedp.SetValue(chromedp.CSS("#item-json"), `{"pk": {"S": "k1"}, "v": {"S": "ok"}, "n": {"N": "`+digits+`"}}`),
		chromedp.Click(chromedp.CSS("#item-save")),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-pk="k1"]`)),
		shot("2-items"))
	if row := textOf(tab, `tr[data-pk="k1"]`); !strings.Contains(row, digits) {
		t.Fatalf("the item's row %q lacks the number %s", row, digits)
	}
	got, err := srv.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("orders"),
		Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "k1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := got.Item["n"].(*ddbtypes.AttributeValueMemberN); !ok || n.Value != digits {
		t.Fatalf("stored n = %#v, want %s", got.Item["n"], digits)
	}

	// 3. A second tab tails the stream from now on.
	tail, cancelTail := chromedp.NewContext(tab)
	defer cancelTail()
	listen(tail, "tail")
	run(tail, "open the stream tail",
		chromedp.Navigate(base+"#/streams/orders"),
		chromedp.WaitVisible(chromedp.CSS("#shard-tree li")),
		waitText("#tail-status", "Tailing"))

	// 4. Edit the item: v becomes "bad", which the trigger's function refuses.
	run(tab, "edit the item",
		chromedp.Click(chromedp.CSS(`tr[data-pk="k1"] button.edit`)),
		chromedp.WaitVisible(chromedp.CSS("#item-json")),
		waitText("#editor h2", "Edit item"))
	loaded, err := chromedp.Run(tab, chromedp.Value(chromedp.CSS("#item-json")))
	if err != nil {
		t.Fatal(err)
	}
	var item map[string]map[string]any
	if err := json.Unmarshal([]byte(loaded), &item); err != nil || item["n"]["N"] != digits || item["v"]["S"] != "ok" {
		t.Fatalf("the editor holds %s (%v)", loaded, err)
	}
	item["v"] = map[string]any{"S": "bad"}
	edited, _ := json.Marshal(item)
	run(tab, "save the edit",
		chromedp.SetValue(chromedp.CSS("#item-json"), string(edited)),
		chromedp.Click(chromedp.CSS("#item-save")),
		chromedp.WaitVisible(chromedp.CSS("#item-saved")),
		waitText(`tr[data-pk="k1"]`, "bad"))

	// 5. The tail shows the MODIFY with v highlighted and n unchanged.
	run(tail, "see the change in the tail",
		chromedp.WaitVisible(chromedp.CSS(`.record.MODIFY tr.changed[data-attr="v"]`)),
		shot("3-stream-tail"))
	if s := textOf(tail, `.record.MODIFY tr[data-attr="v"]`); !strings.Contains(s, "ok") || !strings.Contains(s, "bad") {
		t.Errorf("the tail's v row %q lacks the old and new values", s)
	}
	if nChanged, err := chromedp.Run(tail, chromedp.Evaluate[bool](`document.querySelector('.record.MODIFY tr[data-attr="n"]').classList.contains('changed')`)); err != nil || nChanged {
		t.Errorf("the tail marks n as changed (%v); only v changed", err)
	}
	cancelTail()

	// 6. The Triggers screen shows the function's error.
	run(tab, "see the trigger's error",
		chromedp.Click(chromedp.CSS(`nav a[data-nav="triggers"]`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.mapping[data-uuid="%s"]`, uuid))),
		waitText(fmt.Sprintf(`.mapping[data-uuid="%s"] .last-error`, uuid), "poison record bad"),
		waitText(fmt.Sprintf(`.mapping[data-uuid="%s"] .last-result`, uuid), "PROBLEM"),
		waitText(fmt.Sprintf(`.mapping[data-uuid="%s"] pre.log`, uuid), `"errorMessage":"poison record bad"`),
		shot("4-triggers"))
	card := fmt.Sprintf(`.mapping[data-uuid="%s"]`, uuid)
	run(tab, "disable and enable the trigger",
		chromedp.Click(chromedp.CSS(card+" button.toggle")),
		waitText(card+" .state", "Disabled"),
		waitText(card+" button.toggle", "Enable"),
		chromedp.Click(chromedp.CSS(card+" button.toggle")),
		waitText(card+" .state", "Enabled"),
		waitText(card+" button.toggle", "Disable"),
		waitText(card+" .totals", "1 dead-lettered"))

	// The user fixes the function, then redrives the dead letter.
	if _, err := lambda.NewFromConfig(srv.Config()).UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("poison"), Environment: &ltypes.Environment{Variables: map[string]string{"QUIET": "1"}}}); err != nil {
		t.Fatal(err)
	}

	// 7. Dead letters: the entry, its error and records, redriven.
	run(tab, "open the dead letter",
		chromedp.Click(chromedp.CSS(`nav a[data-nav="dlq"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-entry] a.entry-link`)),
		shot("5-dead-letters"),
		chromedp.Click(chromedp.CSS(`tr[data-entry] a.entry-link`)),
		waitText("#entry-error", "poison record bad"),
		chromedp.WaitVisible(chromedp.CSS(`#entry-records .record`)),
		shot("6-dead-letter"),
		chromedp.Click(chromedp.CSS("#redrive")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-yes")),
		chromedp.Click(chromedp.CSS("#confirm-yes")),
		chromedp.WaitVisible(chromedp.CSS("#redrive-done")),
		waitText("#entry-redrive", "done"),
		shot("7-redriven"))

	resp, err := http.Get(srv.URL() + "/eddy/dlq/entries?mapping=" + uuid)
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Entries []struct{ Redrive string } }
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || len(list.Entries) != 1 || list.Entries[0].Redrive != "done" {
		t.Fatalf("dead letters after the redrive: %+v (%v)", list, err)
	}

	// 8. Items page by page and a Query: 30 more items, 25 to a page.
	for i := range 30 {
		if _, err := srv.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("p%02d", i)}, "v": &ddbtypes.AttributeValueMemberS{Value: "ok"}}}); err != nil {
			t.Fatal(err)
		}
	}
	rows := func() int {
		n, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll('#items tbody tr').length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	run(tab, "browse the items",
		chromedp.Click(chromedp.CSS(`nav a[data-nav="tables"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-table="orders"]`)),
		shot("8-tables"))
	// The list's item count is eddy's exact one (DynamoDB's lags by hours).
	if cells := textOf(tab, `tr[data-table="orders"] td.num`); cells != "31" {
		t.Errorf("the list shows %q items, want 31", cells)
	}
	run(tab, "open the table",
		chromedp.Click(chromedp.CSS(`tr[data-table="orders"] a`)),
		waitText("#page-info", "25 item(s) on this page"),
		chromedp.WaitEnabled(chromedp.CSS("#next-page")))
	if n := rows(); n != 25 {
		t.Fatalf("page 1 has %d rows, want 25", n)
	}
	run(tab, "next page", chromedp.Click(chromedp.CSS("#next-page")), waitText("#page-info", "6 item(s) on this page"))
	if n := rows(); n != 6 {
		t.Fatalf("page 2 has %d rows, want 6", n)
	}
	run(tab, "previous page", chromedp.Click(chromedp.CSS("#prev-page")), waitText("#page-info", "25 item(s) on this page"))
	run(tab, "query one partition",
		chromedp.SendKeys(chromedp.CSS("#q-pk"), "p07"),
		chromedp.Click(chromedp.CSS("#q-run")),
		waitText("#page-info", "1 item(s) on this page"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-pk="p07"]`)),
		shot("9-query"))

	// 9. Purge the dead letters and delete the table, each after a confirmation.
	run(tab, "purge",
		chromedp.Click(chromedp.CSS(`nav a[data-nav="dlq"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-entry]`)),
		chromedp.Click(chromedp.CSS("#purge")),
		chromedp.Click(chromedp.CSS("#confirm-yes")),
		chromedp.WaitVisible(chromedp.CSS("#no-entries")))
	run(tab, "delete the table",
		chromedp.Click(chromedp.CSS(`nav a[data-nav="tables"]`)),
		chromedp.Click(chromedp.CSS(`tr[data-table="orders"] button.delete-table`)),
		chromedp.Click(chromedp.CSS("#confirm-yes")),
		chromedp.WaitNotPresent(chromedp.CSS(`tr[data-table="orders"]`)))
	if _, err := srv.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")}); err == nil {
		t.Fatalf("the table is still there after its deletion in the console")
	}

	// 10. A table with a numeric sort key and no stream, and a Query with
	// a BETWEEN on the sort key.
	run(tab, "create a table with a sort key",
		chromedp.Click(chromedp.CSS("#create-table")),
		chromedp.SendKeys(chromedp.CSS("#ct-name"), "events"),
		chromedp.SendKeys(chromedp.CSS("#ct-pk"), "dev"),
		chromedp.SendKeys(chromedp.CSS("#ct-sk"), "ts"),
		chromedp.SetValue(chromedp.CSS("#ct-sktype"), "N"),
		chromedp.Click(chromedp.CSS("#ct-stream")),
		chromedp.Click(chromedp.CSS("#ct-submit")),
		waitText(`tr[data-table="events"]`, "off"))
	ev, err := srv.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	if ks := ev.Table.KeySchema; len(ks) != 2 || aws.ToString(ks[1].AttributeName) != "ts" || ev.Table.StreamSpecification != nil && aws.ToBool(ev.Table.StreamSpecification.StreamEnabled) {
		t.Fatalf("events: key schema %+v, stream %+v", ks, ev.Table.StreamSpecification)
	}
	for i := 1; i <= 5; i++ {
		if _, err := srv.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("events"), Item: map[string]ddbtypes.AttributeValue{
			"dev": &ddbtypes.AttributeValueMemberS{Value: "a"}, "ts": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	run(tab, "query a sort key range",
		chromedp.Click(chromedp.CSS(`tr[data-table="events"] a`)),
		waitText("#page-info", "5 item(s) on this page"),
		chromedp.SendKeys(chromedp.CSS("#q-pk"), "a"),
		chromedp.SetValue(chromedp.CSS("#q-op"), "between"),
		chromedp.SendKeys(chromedp.CSS("#q-sk1"), "2"),
		chromedp.SendKeys(chromedp.CSS("#q-sk2"), "4"),
		chromedp.Click(chromedp.CSS("#q-run")),
		waitText("#page-info", "3 item(s) on this page"))
	if got := textOf(tab, "#items tbody"); !strings.Contains(got, "2") || !strings.Contains(got, "4") || strings.Contains(got, "5") {
		t.Errorf("BETWEEN 2 AND 4 shows %q", got)
	}
}
