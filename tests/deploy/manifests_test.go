package deploy

// Strict decoding of the chart's rendered manifests into the k8s.io/api
// types (unknown or duplicate fields fail, as the API server's strict field
// validation would; the ServiceMonitor into the fields of the Prometheus
// Operator's type that the chart sets), then the cross-object checks a
// client-side dry run does not make: selectors that select, probe ports that
// exist, ConfigMap and Secret keys that are there, resources and a non-root
// user everywhere, every stage's /metrics on a named port with a readiness
// probe on /readyz, process a StatefulSet whose members are named by their
// pods, Ingress and ServiceMonitor pointing at ports that exist.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// workload is a Deployment or a StatefulSet: what the checks need of either.
type workload struct {
	kind        string
	name        string
	labels      map[string]string
	selector    *metav1.LabelSelector
	replicas    *int32
	template    corev1.PodTemplateSpec
	serviceName string // StatefulSet only
}

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor
// (monitoring.coreos.com/v1) that the chart renders; strict decoding into it
// fails on any other field.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// rendered is one `helm template` output, decoded.
type rendered struct {
	name            string
	workloads       []workload
	services        []corev1.Service
	configMaps      []corev1.ConfigMap
	secrets         []corev1.Secret
	pdbs            []policyv1.PodDisruptionBudget
	ingresses       []networkingv1.Ingress
	serviceMonitors []serviceMonitor
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// strictDecode decodes one YAML document into out, failing on unknown and
// duplicate fields.
func strictDecode(doc []byte, out interface{}) error {
	return yaml.UnmarshalStrict(doc, out)
}

func loadRendered(path string) (*rendered, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &rendered{name: filepath.Base(path)}
	for i, doc := range docSep.Split(string(data), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("%s: document %d: %v", path, i, err)
		}
		want := map[string]string{"Deployment": "apps/v1", "StatefulSet": "apps/v1", "Service": "v1",
			"ConfigMap": "v1", "Secret": "v1", "PodDisruptionBudget": "policy/v1",
			"Ingress": "networking.k8s.io/v1", "ServiceMonitor": "monitoring.coreos.com/v1"}[tm.Kind]
		if want == "" {
			return nil, fmt.Errorf("%s: document %d: kind %q is not one the chart should render", path, i, tm.Kind)
		}
		if tm.APIVersion != want {
			return nil, fmt.Errorf("%s: %s has apiVersion %q, want %q", path, tm.Kind, tm.APIVersion, want)
		}
		var derr error
		switch tm.Kind {
		case "Deployment":
			var o appsv1.Deployment
			derr = strictDecode([]byte(doc), &o)
			r.workloads = append(r.workloads, workload{"Deployment", o.Name, o.Labels, o.Spec.Selector, o.Spec.Replicas, o.Spec.Template, ""})
		case "StatefulSet":
			var o appsv1.StatefulSet
			derr = strictDecode([]byte(doc), &o)
			r.workloads = append(r.workloads, workload{"StatefulSet", o.Name, o.Labels, o.Spec.Selector, o.Spec.Replicas, o.Spec.Template, o.Spec.ServiceName})
		case "Ingress":
			var o networkingv1.Ingress
			derr = strictDecode([]byte(doc), &o)
			r.ingresses = append(r.ingresses, o)
		case "ServiceMonitor":
			var o serviceMonitor
			derr = strictDecode([]byte(doc), &o)
			r.serviceMonitors = append(r.serviceMonitors, o)
		case "Service":
			var o corev1.Service
			derr = strictDecode([]byte(doc), &o)
			r.services = append(r.services, o)
		case "ConfigMap":
			var o corev1.ConfigMap
			derr = strictDecode([]byte(doc), &o)
			r.configMaps = append(r.configMaps, o)
		case "Secret":
			var o corev1.Secret
			derr = strictDecode([]byte(doc), &o)
			r.secrets = append(r.secrets, o)
		case "PodDisruptionBudget":
			var o policyv1.PodDisruptionBudget
			derr = strictDecode([]byte(doc), &o)
			r.pdbs = append(r.pdbs, o)
		}
		if derr != nil {
			return nil, fmt.Errorf("%s: %s (document %d) does not decode strictly: %v", path, tm.Kind, i, derr)
		}
	}
	return r, nil
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// renderedFiles lists the *.yaml files in $DEPLOY_MANIFESTS (one per chart
// rendering); the test is skipped only when the variable is unset.
func renderedFiles(t *testing.T) []string {
	dir := os.Getenv("DEPLOY_MANIFESTS")
	if dir == "" {
		t.Skip("DEPLOY_MANIFESTS not set (tests/integration/deploy_helm.sh sets it)")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rendered manifests in %s", dir)
	}
	sort.Strings(files)
	return files
}

func checkName(t *testing.T, where, kind, name string, dns1035 bool) {
	var errs []string
	if dns1035 {
		errs = validation.IsDNS1035Label(name)
	} else {
		errs = validation.IsDNS1123Subdomain(name)
	}
	if len(errs) > 0 {
		t.Errorf("%s: %s name %q: %s", where, kind, name, strings.Join(errs, "; "))
	}
}

func checkLabels(t *testing.T, where string, l map[string]string) {
	for k, v := range l {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			t.Errorf("%s: label key %q: %s", where, k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			t.Errorf("%s: label %s=%q: %s", where, k, v, strings.Join(errs, "; "))
		}
	}
}

func checkResources(t *testing.T, where string, rr corev1.ResourceRequirements) {
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okr := rr.Requests[res]
		lim, okl := rr.Limits[res]
		if !okr || !okl {
			t.Errorf("%s: %s needs both a request and a limit", where, res)
			continue
		}
		if req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s exceeds its limit %s", where, res, req.String(), lim.String())
		}
		if req.Cmp(resource.MustParse("0")) <= 0 {
			t.Errorf("%s: %s request is zero", where, res)
		}
	}
}

func portNames(c corev1.Container) map[string]int32 {
	m := map[string]int32{}
	for _, p := range c.Ports {
		if p.Name != "" {
			m[p.Name] = p.ContainerPort
		}
	}
	return m
}

func checkProbe(t *testing.T, where string, c corev1.Container, p *corev1.Probe) {
	if p == nil {
		return
	}
	if p.HTTPGet == nil && p.Exec == nil && p.TCPSocket == nil && p.GRPC == nil {
		t.Errorf("%s: probe has no handler", where)
	}
	if p.HTTPGet != nil {
		port := p.HTTPGet.Port
		if port.StrVal != "" {
			if _, ok := portNames(c)[port.StrVal]; !ok {
				t.Errorf("%s: probe port %q is not a named port of container %s", where, port.StrVal, c.Name)
			}
		}
		if !strings.HasPrefix(p.HTTPGet.Path, "/") {
			t.Errorf("%s: probe path %q", where, p.HTTPGet.Path)
		}
	}
}

// TestManifests decodes every rendering strictly and checks the objects
// against each other.
func TestManifests(t *testing.T) {
	external := map[string]bool{}
	for _, s := range strings.Split(os.Getenv("DEPLOY_EXTERNAL_SECRETS"), ",") {
		if s != "" {
			external[s] = true
		}
	}
	for _, f := range renderedFiles(t) {
		r, err := loadRendered(f)
		if err != nil {
			t.Error(err)
			continue
		}
		checkRendered(t, r, external)
	}
}

func checkRendered(t *testing.T, r *rendered, external map[string]bool) {
	cms := map[string]map[string]bool{}
	for _, cm := range r.configMaps {
		checkName(t, r.name, "ConfigMap", cm.Name, false)
		keys := map[string]bool{}
		for k := range cm.Data {
			keys[k] = true
		}
		cms[cm.Name] = keys
	}
	secrets := map[string]map[string]bool{}
	for _, s := range r.secrets {
		checkName(t, r.name, "Secret", s.Name, false)
		keys := map[string]bool{}
		for k := range s.StringData {
			keys[k] = true
		}
		for k := range s.Data {
			keys[k] = true
		}
		for k := range keys {
			if errs := validation.IsEnvVarName(k); len(errs) > 0 {
				t.Errorf("%s: Secret %s key %q is no environment variable name", r.name, s.Name, k)
			}
		}
		secrets[s.Name] = keys
	}
	components := map[string]bool{}
	for _, d := range r.workloads {
		where := fmt.Sprintf("%s: %s %s", r.name, d.kind, d.name)
		checkName(t, r.name, d.kind, d.name, false)
		checkLabels(t, where, d.labels)
		checkLabels(t, where+" pod", d.template.Labels)
		if d.selector == nil || len(d.selector.MatchLabels) == 0 {
			t.Errorf("%s: no selector", where)
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(d.selector)
		if err != nil || !sel.Matches(labels.Set(d.template.Labels)) {
			t.Errorf("%s: selector %v does not select its own pods %v", where, d.selector.MatchLabels, d.template.Labels)
		}
		if d.replicas == nil || *d.replicas < 1 {
			t.Errorf("%s: replicas unset or zero", where)
		}
		component := d.template.Labels["app.kubernetes.io/component"]
		stage := isStage(component)
		ps := d.template.Spec
		if ps.SecurityContext == nil || ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot ||
			ps.SecurityContext.RunAsUser == nil || *ps.SecurityContext.RunAsUser == 0 {
			t.Errorf("%s: the pod must run as a non-root numeric user", where)
		}
		if ps.TerminationGracePeriodSeconds == nil || *ps.TerminationGracePeriodSeconds < 10 {
			t.Errorf("%s: tickpipe drains on SIGTERM; give it a grace period of at least 10 s", where)
		}
		vols := map[string]bool{}
		for _, v := range ps.Volumes {
			vols[v.Name] = true
		}
		if len(ps.Containers) != 1 {
			t.Errorf("%s: %d containers, want 1", where, len(ps.Containers))
		}
		for _, c := range ps.Containers {
			cw := where + " container " + c.Name
			if c.Image == "" {
				t.Errorf("%s: no image", cw)
			}
			if !stage {
				components[component] = true
			} else if len(c.Command) > 0 {
				t.Errorf("%s: sets command %v; the image's entry point is tickpipe, pass the subcommand in args", cw, c.Command)
			} else if len(c.Args) == 0 {
				t.Errorf("%s: no args (the tickpipe subcommand)", cw)
			} else {
				components[c.Args[0]] = true
				if component != c.Args[0] {
					t.Errorf("%s: runs %q but is labelled component %q", cw, c.Args[0], component)
				}
				checkStage(t, cw, d, c)
			}
			checkResources(t, cw, c.Resources)
			checkProbe(t, cw+" liveness", c, c.LivenessProbe)
			checkProbe(t, cw+" readiness", c, c.ReadinessProbe)
			if c.LivenessProbe == nil || c.ReadinessProbe == nil {
				t.Errorf("%s: needs liveness and readiness probes", cw)
			}
			for _, m := range c.VolumeMounts {
				if !vols[m.Name] {
					t.Errorf("%s: mounts volume %q the pod does not have", cw, m.Name)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
					if keys, ok := cms[ref.Name]; !ok || !keys[ref.Key] {
						t.Errorf("%s: env %s refers to ConfigMap %s key %s, which is not rendered", cw, e.Name, ref.Name, ref.Key)
					}
				}
				if ref := e.ValueFrom.SecretKeyRef; ref != nil {
					if external[ref.Name] {
						continue
					}
					if keys, ok := secrets[ref.Name]; !ok || !keys[ref.Key] {
						t.Errorf("%s: env %s refers to Secret %s key %s, which is not rendered", cw, e.Name, ref.Name, ref.Key)
					}
				}
			}
		}
	}
	services := map[string]corev1.Service{}
	for _, s := range r.services {
		where := fmt.Sprintf("%s: Service %s", r.name, s.Name)
		checkName(t, r.name, "Service", s.Name, true)
		services[s.Name] = s
		var hit []workload
		for _, d := range r.workloads {
			if len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.template.Labels)) {
				hit = append(hit, d)
			}
		}
		if len(hit) != 1 {
			t.Errorf("%s: selector %v selects the pods of %d workloads, want 1", where, s.Spec.Selector, len(hit))
			continue
		}
		for _, p := range s.Spec.Ports {
			if p.TargetPort.StrVal == "" {
				continue
			}
			if _, ok := portNames(hit[0].template.Spec.Containers[0])[p.TargetPort.StrVal]; !ok {
				t.Errorf("%s: targetPort %q is not a named port of %s", where, p.TargetPort.StrVal, hit[0].name)
			}
		}
	}
	for _, d := range r.workloads {
		if d.kind != "StatefulSet" {
			continue
		}
		s, ok := services[d.serviceName]
		if !ok {
			t.Errorf("%s: StatefulSet %s: its serviceName %q is not rendered", r.name, d.name, d.serviceName)
		} else if s.Spec.ClusterIP != "None" || !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.template.Labels)) {
			t.Errorf("%s: StatefulSet %s: Service %s must be headless (clusterIP: None) and select its pods", r.name, d.name, s.Name)
		}
	}
	for _, ing := range r.ingresses {
		where := fmt.Sprintf("%s: Ingress %s", r.name, ing.Name)
		checkName(t, r.name, "Ingress", ing.Name, false)
		n := 0
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				t.Errorf("%s: a rule without http paths", where)
				continue
			}
			for _, p := range rule.HTTP.Paths {
				n++
				b := p.Backend.Service
				if b == nil {
					t.Errorf("%s: path %s has no service backend", where, p.Path)
					continue
				}
				s, ok := services[b.Name]
				if !ok {
					t.Errorf("%s: path %s goes to Service %s, which is not rendered", where, p.Path, b.Name)
					continue
				}
				found := false
				for _, sp := range s.Spec.Ports {
					found = found || (b.Port.Name != "" && sp.Name == b.Port.Name) || (b.Port.Number != 0 && sp.Port == b.Port.Number)
				}
				if !found {
					t.Errorf("%s: path %s goes to port %v of Service %s, which it does not have", where, p.Path, b.Port, b.Name)
				}
				if p.PathType == nil {
					t.Errorf("%s: path %s has no pathType (required by networking.k8s.io/v1)", where, p.Path)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no paths", where)
		}
	}
	for _, sm := range r.serviceMonitors {
		where := fmt.Sprintf("%s: ServiceMonitor %s", r.name, sm.Name)
		checkLabels(t, where, sm.Labels)
		sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
		if err != nil {
			t.Errorf("%s: selector: %v", where, err)
			continue
		}
		ports := map[string]bool{}
		picked := map[string]bool{}
		for _, s := range r.services {
			if sel.Matches(labels.Set(s.Labels)) {
				picked[s.Labels["app.kubernetes.io/component"]] = true
				for _, p := range s.Spec.Ports {
					ports[p.Name] = true
				}
			}
		}
		for _, want := range []string{"produce", "process", "serve"} {
			if !picked[want] {
				t.Errorf("%s: selects no Service of %s (selected: %v)", where, want, keys(picked))
			}
		}
		if len(sm.Spec.Endpoints) == 0 {
			t.Errorf("%s: no endpoints", where)
		}
		for _, e := range sm.Spec.Endpoints {
			if !ports[e.Port] {
				t.Errorf("%s: endpoint port %q is no port of the selected Services", where, e.Port)
			}
			if e.Path != "/metrics" {
				t.Errorf("%s: endpoint path %q, tickpipe serves /metrics", where, e.Path)
			}
		}
	}
	for _, p := range r.pdbs {
		where := fmt.Sprintf("%s: PodDisruptionBudget %s", r.name, p.Name)
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil || p.Spec.Selector == nil {
			t.Errorf("%s: bad selector", where)
			continue
		}
		n := 0
		for _, d := range r.workloads {
			if sel.Matches(labels.Set(d.template.Labels)) {
				n++
				if len(d.template.Spec.Containers) > 0 && len(d.template.Spec.Containers[0].Args) > 0 &&
					d.template.Spec.Containers[0].Args[0] != "process" {
					t.Errorf("%s: selects %s; the budget is for process", where, d.name)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: selects the pods of %d workloads, want 1", where, n)
		}
		if (p.Spec.MaxUnavailable == nil) == (p.Spec.MinAvailable == nil) {
			t.Errorf("%s: set exactly one of maxUnavailable and minAvailable", where)
		}
	}
	t.Logf("%s: %d workloads (%v), %d Services, %d ConfigMaps, %d Secrets, %d PodDisruptionBudgets, %d Ingresses, %d ServiceMonitors decoded strictly",
		r.name, len(r.workloads), keys(components), len(r.services), len(r.configMaps), len(r.secrets), len(r.pdbs),
		len(r.ingresses), len(r.serviceMonitors))
}

// isStage: is this component one of tickpipe's stages (the tickpipe image,
// a subcommand in args), rather than a tool beside them (Kafdrop)?
func isStage(component string) bool {
	return component == "produce" || component == "process" || component == "serve"
}

// listenFlag is the flag that gives a stage's HTTP address.
func listenFlag(cmd string) string {
	if cmd == "serve" || cmd == "run" {
		return "--http"
	}
	return "--metrics"
}

// checkStage: a tickpipe stage serves /metrics on a named port that its
// listen flag (--http for serve, --metrics for produce and process) binds,
// is probed ready on /readyz there, carries the prometheus.io annotations
// naming that port (when it has them), and process is a StatefulSet whose
// members take their pod's name as --member-id.
func checkStage(t *testing.T, where string, d workload, c corev1.Container) {
	cmd := c.Args[0]
	addr := flagValue(c.Args, listenFlag(cmd))
	if addr == "" {
		t.Errorf("%s: %s without %s: no /metrics", where, cmd, listenFlag(cmd))
		return
	}
	port := addr[strings.LastIndex(addr, ":")+1:]
	name := ""
	for n, p := range portNames(c) {
		if fmt.Sprint(p) == port {
			name = n
		}
	}
	if name == "" {
		t.Errorf("%s: %s %s: no named container port %s", where, listenFlag(cmd), addr, port)
	}
	if rp := c.ReadinessProbe; rp == nil || rp.HTTPGet == nil || rp.HTTPGet.Path != "/readyz" || rp.HTTPGet.Port.StrVal != name {
		t.Errorf("%s: the readiness probe must be GET /readyz on port %q", where, name)
	}
	if a := d.template.Annotations; a["prometheus.io/scrape"] != "" {
		if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != port || a["prometheus.io/path"] != "/metrics" {
			t.Errorf("%s: prometheus.io annotations %v do not name /metrics on port %s", where, a, port)
		}
	}
	if cmd == "process" {
		if d.kind != "StatefulSet" {
			t.Errorf("%s: process is a %s; a StatefulSet keeps each member's name (--member-id) across restarts", where, d.kind)
		}
		if flagValue(c.Args, "--member-id") != "$(POD_NAME)" {
			t.Errorf("%s: --member-id must be $(POD_NAME), got %q", where, flagValue(c.Args, "--member-id"))
		}
		ok := false
		for _, e := range c.Env {
			ok = ok || (e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
				e.ValueFrom.FieldRef.FieldPath == "metadata.name")
		}
		if !ok {
			t.Errorf("%s: no env POD_NAME from the pod's metadata.name", where)
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestStrictDecodingRejects shows the decoder is strict: a misspelt field
// and a duplicate field both fail (the check this file relies on).
func TestStrictDecodingRejects(t *testing.T) {
	good := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: 1\n"
	var d appsv1.Deployment
	if err := strictDecode([]byte(good), &d); err != nil {
		t.Fatalf("a valid Deployment failed: %v", err)
	}
	for _, bad := range []string{
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 1\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: 1\n  replicas: 2\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          livenesProbe: {}\n",
	} {
		if err := strictDecode([]byte(bad), &d); err == nil {
			t.Errorf("strict decoding accepted:\n%s", bad)
		}
	}
}
