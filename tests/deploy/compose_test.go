package deploy

// Checks of the Compose stack per profile, on the output of
// `docker-compose --profile P config` (interpolated and merged), which
// Debian's docker-compose 1.29 prints with every service whatever the
// profile: so the profile rules of the Compose specification (a service runs
// when it has no profiles or one of them is enabled; a service may depend
// only on services that run) are applied here.

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

type composeFile struct {
	Services map[string]composeService `json:"services"`
	Volumes  map[string]interface{}    `json:"volumes"`
}

type composeService struct {
	Image       string                 `json:"image"`
	Build       interface{}            `json:"build"`
	Command     interface{}            `json:"command"`
	Entrypoint  interface{}            `json:"entrypoint"`
	Environment map[string]interface{} `json:"environment"`
	Healthcheck *struct {
		Test    interface{} `json:"test"`
		Disable bool        `json:"disable"`
	} `json:"healthcheck"`
	Profiles  []string `json:"profiles"`
	DependsOn map[string]struct {
		Condition string `json:"condition"`
	} `json:"depends_on"`
	Restart string        `json:"restart"`
	Ports   []interface{} `json:"ports"`
	Volumes []interface{} `json:"volumes"`
}

// words turns a command, entrypoint or health check test (list or string)
// into its words.
func words(v interface{}) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return strings.Fields(x)
	case []interface{}:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

func (s composeService) isTickpipe() bool {
	return s.Build != nil || strings.HasPrefix(s.Image, "tickpipe")
}

func (s composeService) runsIn(profile string) bool {
	if len(s.Profiles) == 0 {
		return true
	}
	for _, p := range s.Profiles {
		if p == profile {
			return true
		}
	}
	return false
}

// composeConfigs reads $DEPLOY_COMPOSE/<profile>.yaml ("default.yaml" for no
// profile).
func composeConfigs(t *testing.T) map[string]composeFile {
	dir := os.Getenv("DEPLOY_COMPOSE")
	if dir == "" {
		t.Skip("DEPLOY_COMPOSE not set (tests/integration/deploy_compose.sh sets it)")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) == 0 {
		t.Fatalf("no compose configs in %s", dir)
	}
	out := map[string]composeFile{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cf composeFile
		if err := yaml.Unmarshal(data, &cf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".yaml")] = cf
	}
	return out
}

var storeProfiles = map[string]string{"postgresql": "postgresql://", "clickhouse": "clickhouse://", "cassandra": "cassandra://"}

// TestCompose applies the profile rules and the stack's own rules to each
// profile's configuration.
func TestCompose(t *testing.T) {
	cfgs := composeConfigs(t)
	for _, want := range []string{"default", "postgresql", "clickhouse", "cassandra", "simulator"} {
		if _, ok := cfgs[want]; !ok {
			t.Errorf("no configuration for profile %q", want)
		}
	}
	for profile, cf := range cfgs {
		active := map[string]composeService{}
		for name, s := range cf.Services {
			if s.runsIn(profile) {
				active[name] = s
			}
		}
		names := make([]string, 0, len(active))
		for n := range active {
			names = append(names, n)
		}
		sort.Strings(names)
		t.Logf("profile %s: %s", profile, strings.Join(names, " "))
		ports := map[string]string{}
		metricsPorts := map[string]string{}
		var processes, serves []string
		groups := map[string]bool{}
		stores := map[string]bool{}
		for _, name := range names {
			s := active[name]
			where := fmt.Sprintf("profile %s: service %s", profile, name)
			for dep, d := range s.DependsOn {
				if _, ok := active[dep]; !ok {
					t.Errorf("%s depends on %s, which does not run in this profile", where, dep)
				}
				switch d.Condition {
				case "", "service_started", "service_healthy", "service_completed_successfully":
				default:
					t.Errorf("%s: depends_on %s: condition %q", where, dep, d.Condition)
				}
				if d.Condition == "service_healthy" {
					if h := cf.Services[dep].Healthcheck; h == nil || h.Disable || len(words(h.Test)) == 0 || words(h.Test)[0] == "NONE" {
						t.Errorf("%s waits for %s to be healthy, which has no health check", where, dep)
					}
				}
			}
			oneShot := false
			for _, d := range cf.Services {
				if d.DependsOn[name].Condition == "service_completed_successfully" {
					oneShot = true
				}
			}
			if oneShot {
				if s.Restart != "no" && s.Restart != "" {
					t.Errorf("%s: a one-shot step must not restart (restart: %q)", where, s.Restart)
				}
			} else if s.Restart != "unless-stopped" && s.Restart != "always" && !strings.HasPrefix(s.Restart, "on-failure") {
				t.Errorf("%s: a long-running service needs a restart policy (restart: %q)", where, s.Restart)
			}
			for _, p := range s.Ports {
				key := fmt.Sprint(p)
				if m, ok := p.(map[string]interface{}); ok {
					key = fmt.Sprint(m["published"])
				}
				if other, dup := ports[key]; dup {
					t.Errorf("%s publishes port %s, as %s does", where, key, other)
				}
				ports[key] = name
			}
			for _, v := range s.Volumes {
				src := strings.SplitN(fmt.Sprint(v), ":", 2)[0]
				if strings.HasPrefix(src, "/") {
					if _, err := os.Stat(src); err != nil {
						t.Errorf("%s mounts %s, which is not in the checkout", where, src)
					}
				} else if _, ok := cf.Volumes[src]; !ok {
					t.Errorf("%s uses volume %q, which is not declared", where, src)
				}
			}
			if !s.isTickpipe() {
				continue
			}
			cmd := words(s.Command)
			if len(cmd) == 0 {
				t.Errorf("%s: no tickpipe subcommand", where)
				continue
			}
			hc := s.Healthcheck
			checked := hc != nil && !hc.Disable && strings.Contains(strings.Join(words(hc.Test), " "), "tickpipe-healthcheck")
			switch cmd[0] {
			case "serve":
				serves = append(serves, name)
				if !checked {
					t.Errorf("%s: serve's health check must run tickpipe-healthcheck (GET /healthz)", where)
				}
				metricsPorts[name] = portOf(flagValue(cmd, "--http"))
			case "produce", "process":
				if cmd[0] == "process" {
					processes = append(processes, name)
					groups[flagValue(cmd, "--group")] = true
				}
				// /metrics, /healthz and /readyz on --metrics: published, and
				// the health check on it
				m := flagValue(cmd, "--metrics")
				if m == "" {
					t.Errorf("%s: %s without --metrics: its /metrics is not served", where, cmd[0])
					break
				}
				metricsPorts[name] = portOf(m)
				if !checked {
					t.Errorf("%s: the health check must run tickpipe-healthcheck (GET /healthz on --metrics)", where)
				}
				if !publishes(s, portOf(m)) {
					t.Errorf("%s: --metrics %s is not published (ports: %v)", where, m, s.Ports)
				}
			}
			if st := fmt.Sprint(s.Environment["TICKPIPE_STORE"]); s.Environment["TICKPIPE_STORE"] != nil {
				stores[st] = true
				if prefix, ok := storeProfiles[profile]; ok && !strings.HasPrefix(st, prefix) {
					t.Errorf("%s: store %q in profile %s", where, st, profile)
				}
			}
		}
		checkScrapeTargets(t, profile, metricsPorts)
		if _, ok := storeProfiles[profile]; ok {
			if len(processes) < 2 {
				t.Errorf("profile %s: %d process services, want 2 in one group", profile, len(processes))
			}
			if len(groups) != 1 {
				t.Errorf("profile %s: process services in %d groups (%v), want one", profile, len(groups), keys(groups))
			}
			if len(serves) != 1 {
				t.Errorf("profile %s: %d serve services, want 1", profile, len(serves))
			}
			if len(stores) != 1 {
				t.Errorf("profile %s: %d different store URLs, want 1", profile, len(stores))
			}
		}
	}
}

// portOf is the port of ADDR:PORT.
func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// publishes: does the service publish container port target?
func publishes(s composeService, target string) bool {
	for _, p := range s.Ports {
		if m, ok := p.(map[string]interface{}); ok && fmt.Sprint(m["target"]) == target {
			return true
		}
		if str, ok := p.(string); ok && strings.HasSuffix(str, ":"+target) {
			return true
		}
	}
	return false
}

// checkScrapeTargets: the Compose stack's Prometheus (deploy/prometheus/
// prometheus.yml) scrapes every tickpipe service that serves /metrics, by
// its service name and on the port it listens on.
func checkScrapeTargets(t *testing.T, profile string, metricsPorts map[string]string) {
	src := os.Getenv("TP_SOURCE_DIR")
	data, err := os.ReadFile(filepath.Join(src, "deploy", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName string `json:"job_name"`
			DNSSD   []struct {
				Names []string `json:"names"`
				Port  int      `json:"port"`
			} `json:"dns_sd_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	scraped := map[string]string{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, d := range sc.DNSSD {
			for _, n := range d.Names {
				scraped[n] = fmt.Sprint(d.Port)
			}
		}
	}
	for name, port := range metricsPorts {
		if got, ok := scraped[name]; !ok {
			t.Errorf("profile %s: Prometheus does not scrape %s (deploy/prometheus/prometheus.yml)", profile, name)
		} else if got != port {
			t.Errorf("profile %s: Prometheus scrapes %s on port %s, it listens on %s", profile, name, got, port)
		}
	}
}

// flagValue is the value after flag in args ("" when absent).
func flagValue(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
		if strings.HasPrefix(a, flag+"=") {
			return strings.TrimPrefix(a, flag+"=")
		}
	}
	return ""
}

// TestComposeSecretsFromEnv: the committed compose file takes every token
// and password from the environment (.env), never a literal.
func TestComposeSecretsFromEnv(t *testing.T) {
	src := os.Getenv("TP_SOURCE_DIR")
	if src == "" {
		t.Skip("TP_SOURCE_DIR not set")
	}
	data, err := os.ReadFile(filepath.Join(src, "deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, line := range strings.Split(string(data), "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok || !(strings.Contains(k, "PASSWORD") || strings.Contains(k, "TOKEN")) {
			continue
		}
		n++
		v = strings.TrimSpace(v)
		if !strings.HasPrefix(v, "${") {
			t.Errorf("compose.yaml:%d: %s is a literal, not ${...} from deploy/.env", i+1, k)
		}
	}
	if n == 0 {
		t.Error("no token or password found in compose.yaml: the check found nothing to check")
	}
}

// TestComposeKafka: the broker image is the Apache Kafka version the test
// suite runs (tests/kafka/pom.xml), and its KRaft cluster id is what
// kafka-storage format accepts (16 bytes, URL-safe base64, no padding).
func TestComposeKafka(t *testing.T) {
	src := os.Getenv("TP_SOURCE_DIR")
	pom, err := os.ReadFile(filepath.Join(src, "tests", "kafka", "pom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<kafka.version>([^<]+)</kafka.version>`).FindSubmatch(pom)
	if m == nil {
		t.Fatal("tests/kafka/pom.xml: no kafka.version")
	}
	tested := string(m[1])
	for profile, cf := range composeConfigs(t) {
		n := 0
		for name, s := range cf.Services {
			if !strings.HasPrefix(s.Image, "apache/kafka:") || !s.runsIn(profile) {
				continue
			}
			n++
			if tag := strings.TrimPrefix(s.Image, "apache/kafka:"); tag != tested {
				t.Errorf("profile %s, %s: apache/kafka:%s, the suite tests Kafka %s", profile, name, tag, tested)
			}
			if id, ok := s.Environment["CLUSTER_ID"]; ok {
				raw, err := base64.RawURLEncoding.DecodeString(fmt.Sprint(id))
				if err != nil || len(raw) != 16 {
					t.Errorf("profile %s, %s: CLUSTER_ID %q is not 16 bytes of URL-safe base64 (kafka-storage format refuses it)", profile, name, id)
				}
			}
		}
		if n < 2 {
			t.Errorf("profile %s: %d apache/kafka services, want the broker and the topic step", profile, n)
		}
	}
}
