package deploy

// Every tickpipe flag and environment variable that the deploy files use
// must be in `tickpipe <command> --help` of the command they start, and
// every health endpoint they probe must answer 200 on a real
// `tickpipe serve`. The deploy files are read as written (Dockerfile), as
// Compose resolves them (docker-compose config) and as Helm renders them
// (helm template), so a flag renamed in the code fails here after a merge.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// invocation is one tickpipe command that a deploy file starts.
type invocation struct {
	where string
	args  []string // args[0] is the subcommand
	env   []string // names of the environment variables it is given
}

var helpCache = map[string]string{}

func help(t *testing.T, cmd string) string {
	if h, ok := helpCache[cmd]; ok {
		return h
	}
	bin := os.Getenv("TICKPIPE")
	if bin == "" {
		t.Skip("TICKPIPE not set (ctest sets it)")
	}
	out, err := exec.Command(bin, cmd, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("tickpipe %s --help: %v\n%s", cmd, err, out)
	}
	helpCache[cmd] = string(out)
	return string(out)
}

// mentions: does the help text name tok as a whole word (a flag or an
// environment variable)?
func mentions(text, tok string) bool {
	re := regexp.MustCompile(`(^|[^A-Za-z0-9_-])` + regexp.QuoteMeta(tok) + `($|[^A-Za-z0-9_-])`)
	return re.MatchString(text)
}

var argRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

func checkInvocation(t *testing.T, inv invocation) {
	if len(inv.args) == 0 {
		t.Errorf("%s: no subcommand", inv.where)
		return
	}
	cmd := inv.args[0]
	h := help(t, cmd)
	refs := map[string]bool{}
	for _, a := range inv.args[1:] {
		for _, m := range argRef.FindAllStringSubmatch(a, -1) {
			refs[m[1]] = true
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		name := strings.SplitN(a, "=", 2)[0]
		if !mentions(h, name) {
			t.Errorf("%s: `tickpipe %s` has no flag %s (see tickpipe %s --help)", inv.where, cmd, name, cmd)
		}
	}
	for _, e := range inv.env {
		// A variable only expanded into the args ($(NAME), Kubernetes) is
		// not read by tickpipe.
		if refs[e] {
			continue
		}
		if !mentions(h, e) {
			t.Errorf("%s: `tickpipe %s` reads no environment variable %s (see tickpipe %s --help)", inv.where, cmd, e, cmd)
		}
	}
}

func composeInvocations(t *testing.T) []invocation {
	var out []invocation
	for profile, cf := range composeConfigs(t) {
		for name, s := range cf.Services {
			if !s.isTickpipe() || !s.runsIn(profile) {
				continue
			}
			inv := invocation{where: fmt.Sprintf("compose profile %s, service %s", profile, name), args: words(s.Command)}
			for k := range s.Environment {
				inv.env = append(inv.env, k)
			}
			sort.Strings(inv.env)
			out = append(out, inv)
		}
	}
	return out
}

func chartInvocations(t *testing.T) []invocation {
	var out []invocation
	for _, f := range renderedFiles(t) {
		r, err := loadRendered(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range r.workloads {
			if !isStage(d.template.Labels["app.kubernetes.io/component"]) {
				continue
			}
			for _, c := range d.template.Spec.Containers {
				inv := invocation{where: fmt.Sprintf("chart %s, %s %s", r.name, d.kind, d.name), args: c.Args}
				for _, e := range c.Env {
					inv.env = append(inv.env, e.Name)
				}
				out = append(out, inv)
			}
		}
	}
	return out
}

// dockerfileInvocation: the image's default command (CMD) with the
// environment its ENV lines set.
func dockerfileInvocation(t *testing.T) invocation {
	src := os.Getenv("TP_SOURCE_DIR")
	if src == "" {
		t.Skip("TP_SOURCE_DIR not set")
	}
	f, err := os.Open(filepath.Join(src, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inv := invocation{where: "Dockerfile"}
	sc := bufio.NewScanner(f)
	stage := 0
	inEnv := false
	envName := regexp.MustCompile(`([A-Z_][A-Z0-9_]*)=`)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "FROM ") {
			stage++
			inv.env = nil
		}
		if strings.HasPrefix(line, "ENV ") || inEnv {
			for _, m := range envName.FindAllStringSubmatch(line, -1) {
				inv.env = append(inv.env, m[1])
			}
			inEnv = strings.HasSuffix(line, "\\")
		}
		if strings.HasPrefix(line, "CMD ") {
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "CMD ")), &inv.args); err != nil {
				t.Fatalf("Dockerfile: CMD is not a JSON list: %v", err)
			}
		}
	}
	if stage != 2 || len(inv.args) == 0 || len(inv.env) == 0 {
		t.Fatalf("Dockerfile: want two stages, a CMD and ENV lines in the last (stages %d, CMD %v, ENV %v)", stage, inv.args, inv.env)
	}
	return inv
}

// TestFlags checks every invocation in the Dockerfile, the Compose stack
// and the rendered chart.
func TestFlags(t *testing.T) {
	invs := []invocation{dockerfileInvocation(t)}
	invs = append(invs, composeInvocations(t)...)
	invs = append(invs, chartInvocations(t)...)
	seen := map[string]bool{}
	for _, inv := range invs {
		checkInvocation(t, inv)
		if len(inv.args) > 0 {
			seen[inv.args[0]] = true
		}
	}
	for _, want := range []string{"run", "produce", "process", "serve"} {
		if !seen[want] {
			t.Errorf("no deploy file starts tickpipe %s: the check would miss its flags", want)
		}
	}
	t.Logf("%d invocations checked against --help of %v", len(invs), keys(seen))
}

// TestFlagCheckCatches: the check reports a flag and a variable that the
// command does not have (so TestFlags cannot pass by matching anything).
func TestFlagCheckCatches(t *testing.T) {
	h := help(t, "process")
	for _, bad := range []string{"--emit-intervals", "--group-id", "--store-url", "TICKPIPE_STOR", "FINNHUB_API_TOKEN"} {
		if mentions(h, bad) {
			t.Errorf("process --help seems to mention %q; the word match is too loose", bad)
		}
	}
	for _, good := range []string{"--group", "--store", "-X", "TICKPIPE_STORE", "KAFKA_TOPIC_NAME"} {
		if !mentions(h, good) {
			t.Errorf("process --help does not mention %q", good)
		}
	}
}

// probes: the container's probes that are set, by kind.
func probes(c corev1.Container) map[string]*corev1.Probe {
	out := map[string]*corev1.Probe{}
	for kind, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
		if p != nil {
			out[kind] = p
		}
	}
	return out
}

var healthGet = regexp.MustCompile(`GET (/[^ ]*) HTTP`)

// TestProbeEndpoints starts `tickpipe serve` on a SQLite store and a free
// loopback port and requests every path that the chart's probes and the
// image's health check ask for.
func TestProbeEndpoints(t *testing.T) {
	paths := map[string]string{}
	src := os.Getenv("TP_SOURCE_DIR")
	script, err := os.ReadFile(filepath.Join(src, "deploy", "tickpipe-healthcheck"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range healthGet.FindAllStringSubmatch(string(script), -1) {
		paths[m[1]] = "deploy/tickpipe-healthcheck"
	}
	for _, f := range renderedFiles(t) {
		r, err := loadRendered(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range r.workloads {
			if !isStage(d.template.Labels["app.kubernetes.io/component"]) {
				continue // Kafdrop's probes are Kafdrop's
			}
			for _, c := range d.template.Spec.Containers {
				for kind, p := range probes(c) {
					if p.HTTPGet != nil {
						// the probed port is the one the command listens on
						// (--http or --metrics: the same server and paths)
						if len(c.Args) == 0 {
							t.Errorf("%s %s: an HTTP probe on a container without a tickpipe command", r.name, d.name)
						} else if addr := flagValue(c.Args, listenFlag(c.Args[0])); addr == "" ||
							fmt.Sprint(portNames(c)[p.HTTPGet.Port.StrVal]) != addr[strings.LastIndex(addr, ":")+1:] {
							t.Errorf("%s %s: the %s probe's port %v is not where %v listens (%s %q)", r.name, d.name, kind,
								p.HTTPGet.Port, c.Args[0], listenFlag(c.Args[0]), addr)
						}
						paths[p.HTTPGet.Path] = fmt.Sprintf("chart %s %s %s probe", r.name, d.name, kind)
					}
				}
			}
		}
	}
	if len(paths) == 0 {
		t.Fatal("no probe paths found")
	}
	bin := os.Getenv("TICKPIPE")
	if bin == "" {
		t.Skip("TICKPIPE not set")
	}
	dir := t.TempDir()
	// an empty file is an empty SQLite database (serve refuses a missing one)
	if err := os.WriteFile(filepath.Join(dir, "probe.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--store", "sqlite:"+filepath.Join(dir, "probe.db"), "--http", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	ready := regexp.MustCompile(`dashboard at (http://127\.0\.0\.1:[0-9]+)/`)
	base := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := ready.FindStringSubmatch(sc.Text()); m != nil {
				base <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-base:
	case <-time.After(60 * time.Second):
		t.Fatal("tickpipe serve printed no dashboard address within 60 s")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for path, who := range paths {
		// a probe is retried, as the kubelet does: /readyz turns 200 once
		// serve's store worker has opened the store, just after the start
		var resp *http.Response
		var err error
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			resp, err = client.Get(url + path)
			if err == nil && resp.StatusCode != 200 && time.Now().Before(deadline) {
				resp.Body.Close()
				continue
			}
			break
		}
		if err != nil {
			t.Errorf("%s probes %s: %v", who, path, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s probes %s: HTTP %d from a healthy tickpipe serve", who, path, resp.StatusCode)
		} else {
			t.Logf("%s -> %s: 200", who, path)
		}
	}
	// and a path that does not exist is not 200, so the check can fail
	resp, err := client.Get(url + "/no-such-probe")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("tickpipe serve answers 200 on any path; the probe check proves nothing")
		}
	}
}

// TestImageConsistency: the chart runs the pods as the image's USER (so
// files the image owns stay writable and runAsNonRoot holds), and serve
// listens where the image EXPOSEs and the Compose stack publishes.
func TestImageConsistency(t *testing.T) {
	src := os.Getenv("TP_SOURCE_DIR")
	data, err := os.ReadFile(filepath.Join(src, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	user := regexp.MustCompile(`(?m)^USER ([0-9]+):([0-9]+)$`).FindStringSubmatch(string(data))
	expose := regexp.MustCompile(`(?m)^EXPOSE ([0-9]+)$`).FindStringSubmatch(string(data))
	if user == nil || expose == nil {
		t.Fatalf("Dockerfile: no numeric USER uid:gid or no EXPOSE port")
	}
	for _, f := range renderedFiles(t) {
		r, err := loadRendered(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range r.workloads {
			if !isStage(d.template.Labels["app.kubernetes.io/component"]) {
				continue // not the tickpipe image
			}
			sc := d.template.Spec.SecurityContext
			if sc == nil || sc.RunAsUser == nil || fmt.Sprint(*sc.RunAsUser) != user[1] ||
				sc.RunAsGroup == nil || fmt.Sprint(*sc.RunAsGroup) != user[2] {
				t.Errorf("%s %s: pods do not run as the image's USER %s:%s", r.name, d.name, user[1], user[2])
			}
			c := d.template.Spec.Containers[0]
			if r.name == "default.yaml" && len(c.Args) > 0 && c.Args[0] == "serve" {
				if len(c.Ports) != 1 || fmt.Sprint(c.Ports[0].ContainerPort) != expose[1] {
					t.Errorf("%s %s: serve's port %v, the image exposes %s", r.name, d.name, c.Ports, expose[1])
				}
			}
		}
	}
	for profile, cf := range composeConfigs(t) {
		for name, s := range cf.Services {
			if !s.isTickpipe() || len(words(s.Command)) == 0 || words(s.Command)[0] != "serve" {
				continue
			}
			if http := flagValue(words(s.Command), "--http"); !strings.HasSuffix(http, ":"+expose[1]) {
				t.Errorf("compose %s %s: serve listens on %q, the image exposes %s", profile, name, http, expose[1])
			}
			for _, p := range s.Ports {
				if m, ok := p.(map[string]interface{}); ok && fmt.Sprint(m["target"]) != expose[1] {
					t.Errorf("compose %s %s: publishes container port %v, the image exposes %s", profile, name, m["target"], expose[1])
				}
			}
		}
	}
}
