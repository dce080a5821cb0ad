// Package infra_test checks the deployment files in this folder against what Flex Consumption
// accepts, without Azure and without a Bicep compiler (none can be installed where this is built).
//
// The Bicep is read as text: comments and string literals are masked, braces are matched, and a
// few properties are looked up by name along a path (resource -> properties -> functionAppConfig ->
// runtime). Each check names the file and line it objects to. TestRealInfra runs every check on
// main.bicep, modules/*.bicep and main.parameters.json; TestChecksCatchBrokenInfra breaks a copy of
// those files one way at a time (the mutation must find its target, so a reformatted file fails here
// instead of going unchecked) and TestChecksOnSnippets covers what the real files do not show.
// The Bicep reader is in bicep_test.go; the package, the fallback deploy script and the start-up
// limit are in package_test.go; users' own hunts in the package (HUNTS_DIR) in package_hunts_test.go.
//
// The limits come from docs/deploy.md ("Flex Consumption limits"), which cites Microsoft's sources.
package infra_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Role definition ids huntwatch's identity may hold, by the key main.bicep's `var roleIds` uses,
// and the resource types each may be scoped to (a full type prefix, or a nested resource's short type).
var allowedRoles = map[string]struct {
	id     string
	scopes []string
}{
	"logAnalyticsReader":          {"73c42c96-874c-492b-b04d-ab87d138a893", []string{"Microsoft.OperationalInsights/workspaces@"}},
	"storageTableDataContributor": {"0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", []string{"Microsoft.Storage/storageAccounts@", "Microsoft.Storage/storageAccounts/tableServices/tables@", "tables"}},
	"storageBlobDataOwner":        {"b7e6dc6d-f1e8-4753-8033-0f276bb0955b", []string{"Microsoft.Storage/storageAccounts@", "Microsoft.Storage/storageAccounts/blobServices/containers@", "containers"}},
	"monitoringMetricsPublisher":  {"3913510d-42f4-4e42-8a64-420c390055eb", []string{"Microsoft.Insights/components@"}},
	"keyVaultSecretsUser":         {"4633458b-17de-408a-b874-0445c86b69e6", []string{"Microsoft.KeyVault/vaults@", "Microsoft.KeyVault/vaults/secrets@", "secrets"}},
}

// App settings Flex Consumption replaces, refuses or ignores, and site properties it refuses.
var (
	forbiddenSettings = []string{
		"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE",
		"SCM_DO_BUILD_DURING_DEPLOYMENT", "WEBSITE_CONTENTSHARE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
		"WEBSITE_TIME_ZONE", "TZ",
	}
	forbiddenSiteProperties = []string{
		"use32BitWorkerProcess", "ftpsState", "preWarmedInstanceCount", "netFrameworkVersion",
		"functionAppScaleLimit", "minimumElasticInstanceCount",
	}
	allowedMemoryMB = map[int]bool{512: true, 2048: true, 4096: true}
)

const (
	minInstances = 40 // the general lower limit of maximumInstanceCount
	maxInstances = 1000
)

// infra is the set of files the checks read, keyed by their path relative to infra/.
type infra struct {
	bicep  map[string]*bicepFile
	params string // main.parameters.json
}

func loadInfra(t *testing.T) infra {
	t.Helper()
	in := infra{bicep: map[string]*bicepFile{}}
	paths, err := filepath.Glob("*.bicep")
	if err != nil {
		t.Fatal(err)
	}
	modules, _ := filepath.Glob(filepath.Join("modules", "*.bicep"))
	for _, p := range append(paths, modules...) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		in.bicep[filepath.ToSlash(p)] = parseBicep(filepath.ToSlash(p), string(data))
	}
	if in.bicep["main.bicep"] == nil {
		t.Fatal("no main.bicep in infra/")
	}
	data, err := os.ReadFile("main.parameters.json")
	if err != nil {
		t.Fatal(err)
	}
	in.params = string(data)
	return in
}

// problems runs every check.
func (in infra) problems() []string {
	var out []string
	for _, check := range []func(infra) []string{checkRuntime, checkScale, checkForbidden, checkRoles, checkSecrets, checkPlan, checkMemoryLimit} {
		out = append(out, check(in)...)
	}
	return out
}

func (in infra) files() []*bicepFile {
	names := make([]string, 0, len(in.bicep))
	for n := range in.bicep {
		names = append(names, n)
	}
	sort.Strings(names)
	files := make([]*bicepFile, len(names))
	for i, n := range names {
		files[i] = in.bicep[n]
	}
	return files
}

// sites returns the function app resources (Microsoft.Web/sites, not its child types) of all files.
func (in infra) sites() []*resource {
	var out []*resource
	for _, f := range in.files() {
		for _, r := range f.resources() {
			if strings.HasPrefix(r.typ, "Microsoft.Web/sites@") {
				out = append(out, r)
			}
		}
	}
	return out
}

// checkRuntime: functionAppConfig.runtime is exactly { name: 'custom', version: '1.0' }. ARM accepts
// other strings and the app then fails only when the host starts.
func checkRuntime(in infra) []string {
	sites := in.sites()
	if len(sites) == 0 {
		return []string{"no Microsoft.Web/sites resource found"}
	}
	var out []string
	for _, site := range sites {
		rt, ok := site.f.path(site.body, "properties", "functionAppConfig", "runtime")
		if !ok {
			out = append(out, site.where()+": no properties.functionAppConfig.runtime object (Flex Consumption takes the runtime from there)")
			continue
		}
		for _, want := range [][2]string{{"name", "'custom'"}, {"version", "'1.0'"}} {
			got, line, ok := site.f.prop(rt, want[0])
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("%s: functionAppConfig.runtime has no %s; want %s", site.where(), want[0], want[1]))
			case got != want[1]:
				out = append(out, fmt.Sprintf("%s:%d: functionAppConfig.runtime.%s is %s; a custom handler needs exactly %s", site.f.name, line, want[0], got, want[1]))
			}
		}
	}
	return out
}

// checkScale: maximumInstanceCount within 40..1000 and instanceMemoryMB one of 512, 2048, 4096, each
// either a literal or a parameter whose default and decorators keep it there.
func checkScale(in infra) []string {
	var out []string
	for _, site := range in.sites() {
		sc, ok := site.f.path(site.body, "properties", "functionAppConfig", "scaleAndConcurrency")
		if !ok {
			out = append(out, site.where()+": no properties.functionAppConfig.scaleAndConcurrency object (set maximumInstanceCount and instanceMemoryMB)")
			continue
		}
		out = append(out, checkIntProp(site, sc, "maximumInstanceCount", func(p *param) []string {
			var bad []string
			if p.min == nil || *p.min < minInstances {
				bad = append(bad, fmt.Sprintf("needs @minValue(%d) or more (lower values are a preview in a few regions only)", minInstances))
			}
			if p.max == nil || *p.max > maxInstances {
				bad = append(bad, fmt.Sprintf("needs @maxValue(%d) or less", maxInstances))
			}
			if p.def == nil || *p.def < minInstances || *p.def > maxInstances {
				bad = append(bad, fmt.Sprintf("needs a default from %d to %d", minInstances, maxInstances))
			}
			return bad
		}, func(v int) bool { return v >= minInstances && v <= maxInstances })...)
		out = append(out, checkIntProp(site, sc, "instanceMemoryMB", func(p *param) []string {
			var bad []string
			if len(p.allowed) == 0 {
				bad = append(bad, "needs @allowed([ 512, 2048, 4096 ]) or a subset")
			}
			for _, v := range p.allowed {
				if !allowedMemoryMB[v] {
					bad = append(bad, fmt.Sprintf("@allowed lists %d, which Flex Consumption does not offer (512, 2048, 4096)", v))
				}
			}
			if p.def == nil || !allowedMemoryMB[*p.def] {
				bad = append(bad, "needs a default of 512, 2048 or 4096")
			}
			return bad
		}, func(v int) bool { return allowedMemoryMB[v] })...)
	}
	return out
}

// checkIntProp reads an integer property of span: a literal must pass ok, a parameter must pass okParam.
func checkIntProp(site *resource, span span, key string, okParam func(*param) []string, ok func(int) bool) []string {
	f := site.f
	value, line, found := f.prop(span, key)
	if !found {
		return []string{fmt.Sprintf("%s: functionAppConfig.scaleAndConcurrency sets no %s; set it explicitly", site.where(), key)}
	}
	if n, err := strconv.Atoi(value); err == nil {
		if !ok(n) {
			return []string{fmt.Sprintf("%s:%d: %s is %d, outside what Flex Consumption accepts", f.name, line, key, n)}
		}
		return nil
	}
	p := f.params()[value]
	if p == nil {
		return []string{fmt.Sprintf("%s:%d: %s is %q, neither an integer nor a parameter of this file", f.name, line, key, value)}
	}
	var out []string
	for _, bad := range okParam(p) {
		out = append(out, fmt.Sprintf("%s:%d: parameter %s (for %s) %s", f.name, p.line, p.name, key, bad))
	}
	return out
}

// checkForbidden: no app setting Flex Consumption replaces or refuses, and no siteConfig property it
// refuses, as an object key or as an appSettings array entry (name: 'X'), in any file.
// wantMemoryLimit is GOMEMLIMIT as main.bicep's appSettings must set it: 7/32 of the instance, so
// that the handler's whole memory stays within a quarter of it.
const wantMemoryLimit = "'${instanceMemoryMB * 7 / 32}MiB'"

// checkMemoryLimit: the Go runtime's soft memory limit follows the instance size, so that a large
// answer makes the collector work harder rather than the instance run out of memory.
func checkMemoryLimit(in infra) []string {
	f := in.bicep["main.bicep"]
	if f == nil {
		return nil
	}
	settings, ok := f.object("appSettings")
	if !ok {
		return nil // a snippet; the real file's settings are checked against config.Settings too
	}
	p, ok := settings["GOMEMLIMIT"]
	switch {
	case !ok:
		return []string{fmt.Sprintf("main.bicep: var appSettings sets no GOMEMLIMIT (want %s)", wantMemoryLimit)}
	case strings.Join(strings.Fields(p.value), " ") != wantMemoryLimit:
		return []string{fmt.Sprintf("main.bicep:%d: GOMEMLIMIT is %s, want %s", p.line, p.value, wantMemoryLimit)}
	}
	return nil
}

func checkForbidden(in infra) []string {
	var out []string
	for _, f := range in.files() {
		for _, name := range forbiddenSettings {
			for _, at := range f.keys(name) {
				out = append(out, fmt.Sprintf("%s:%d: app setting %s is replaced or refused on Flex Consumption", f.name, f.line(at), name))
			}
			entry := regexp.MustCompile(`(?i)\bname[ \t]*:[ \t]*'` + regexp.QuoteMeta(name) + `'`)
			for _, loc := range entry.FindAllStringIndex(f.code, -1) {
				if f.isCode(loc[0]) {
					out = append(out, fmt.Sprintf("%s:%d: app setting %s is replaced or refused on Flex Consumption", f.name, f.line(loc[0]), name))
				}
			}
		}
		for _, name := range forbiddenSiteProperties {
			for _, at := range f.keys(name) {
				out = append(out, fmt.Sprintf("%s:%d: site property %s is refused on Flex Consumption", f.name, f.line(at), name))
			}
		}
	}
	return out
}

var guidRE = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)

// checkRoles: every role id in the files is one huntwatch needs, `var roleIds` maps each key to its
// own role, and each role assignment is scoped to a resource of a type that role is meant for (never
// the resource group or subscription). A module's roleDefinitionId parameter takes the role the
// calling file passes.
func checkRoles(in infra) []string {
	var out []string
	byID := map[string]string{}
	for key, r := range allowedRoles {
		byID[r.id] = key
	}
	// Roles passed into modules: module file -> parameter -> role key.
	passed := map[string]map[string]string{}
	for _, f := range in.files() {
		for _, loc := range guidRE.FindAllStringIndex(f.code, -1) {
			id := strings.ToLower(f.code[loc[0]:loc[1]])
			if byID[id] == "" {
				out = append(out, fmt.Sprintf("%s:%d: %s is not one of the roles huntwatch needs (%s)", f.name, f.line(loc[0]), id, strings.Join(sortedRoleKeys(), ", ")))
			}
		}
		if ids, ok := f.object("roleIds"); ok {
			for key, v := range ids {
				want, known := allowedRoles[key]
				if !known {
					out = append(out, fmt.Sprintf("%s:%d: roleIds.%s is not a role huntwatch needs", f.name, v.line, key))
				} else if strings.Trim(strings.ToLower(v.value), "'") != want.id {
					out = append(out, fmt.Sprintf("%s:%d: roleIds.%s is %s; that role's id is %s", f.name, v.line, key, v.value, want.id))
				}
			}
		}
		for _, m := range f.modules() {
			ps, ok := f.path(m.body, "params")
			if !ok {
				continue
			}
			file := filepath.ToSlash(filepath.Join(filepath.Dir(f.name), m.typ))
			for _, l := range f.props(ps) {
				if r := roleRef(l.value); r != "" {
					if passed[file] == nil {
						passed[file] = map[string]string{}
					}
					passed[file][l.key] = r
				}
			}
		}
	}
	for _, f := range in.files() {
		n := strings.Count(f.code, "'Microsoft.Authorization/roleAssignments@")
		var seen int
		for _, r := range f.resources() {
			if !strings.HasPrefix(r.typ, "Microsoft.Authorization/roleAssignments@") {
				continue
			}
			seen++
			out = append(out, checkAssignment(f, r, passed[f.name])...)
		}
		if seen != n {
			out = append(out, fmt.Sprintf("%s: %d role assignment types named, %d read as `resource x '...' = {` blocks; write each as a plain block so this test can check it", f.name, n, seen))
		}
	}
	return out
}

// roleRef returns the role key of a value naming roleIds.KEY, or of a role id literal.
func roleRef(value string) string {
	if m := regexp.MustCompile(`\broleIds\.(\w+)`).FindStringSubmatch(value); m != nil {
		return m[1]
	}
	if id := guidRE.FindString(value); id != "" {
		for key, r := range allowedRoles {
			if r.id == strings.ToLower(id) {
				return key
			}
		}
	}
	return ""
}

func checkAssignment(f *bicepFile, r *resource, passed map[string]string) []string {
	var role, value string
	if props, ok := f.path(r.body, "properties"); ok {
		value, _, _ = f.prop(props, "roleDefinitionId")
	}
	role = roleRef(value)
	if role == "" {
		for name := range f.params() {
			if regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`).MatchString(value) {
				if role = passed[name]; role == "" {
					return []string{fmt.Sprintf("%s: role assignment %s takes its role from parameter %s, and no file passes it a role this test knows", r.where(), r.name, name)}
				}
			}
		}
	}
	if role == "" {
		return []string{fmt.Sprintf("%s: role assignment %s names no role this test can read (use roleIds.<key>)", r.where(), r.name)}
	}
	scope, line, found := f.prop(r.body, "scope")
	if !found {
		return []string{fmt.Sprintf("%s: role assignment %s (%s) has no scope: it would cover the whole resource group", r.where(), r.name, role)}
	}
	symbol := scope
	if i := strings.LastIndex(symbol, "::"); i >= 0 {
		symbol = symbol[i+2:]
	}
	target := f.resourceNamed(symbol)
	if target == nil {
		return []string{fmt.Sprintf("%s:%d: role assignment %s (%s) is scoped to %s, not to a resource of this file (resource groups and subscriptions are too broad)", f.name, line, r.name, role, scope)}
	}
	for _, t := range allowedRoles[role].scopes {
		if strings.HasPrefix(target.typ, t) || target.typ == t {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s:%d: role assignment %s gives %s on %s (%s); that role belongs on %s", f.name, line, r.name, role, scope, target.typ, strings.Join(allowedRoles[role].scopes, " or "))}
}

func sortedRoleKeys() []string {
	var keys []string
	for k := range allowedRoles {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var (
	secretishName = regexp.MustCompile(`(?i)(secret|token|password|webhook|connectionstring|apikey|accountkey)`)
	plainSecret   = regexp.MustCompile(`(?i)(xox[abprs]-[0-9a-z-]+|hooks\.slack\.com/services/|AccountKey=|SharedAccessSignature=|sig=[0-9a-z%]{20,})`)
	keyFunctions  = regexp.MustCompile(`(?i)\blist(Keys|Secrets|ConnectionStrings|AccountSas|ServiceSas)\s*\(`)
	azdValue      = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*\}$`)
)

// checkSecrets: a parameter that holds a secret is @secure() and goes only into a Key Vault secret's
// value; no storage or service keys are read into the template (listKeys and friends); no secret
// literal in any file; main.parameters.json gives a secure parameter only an azd ${VARIABLE}.
func checkSecrets(in infra) []string {
	var out []string
	secure := map[string]bool{}
	for _, f := range in.files() {
		for _, p := range f.params() {
			if secretishName.MatchString(p.name) && !p.secure {
				out = append(out, fmt.Sprintf("%s:%d: parameter %s looks like a secret but is not @secure()", f.name, p.line, p.name))
			}
			if !p.secure {
				continue
			}
			if f.name == "main.bicep" {
				secure[p.name] = true
			}
			ref := regexp.MustCompile(`\b` + regexp.QuoteMeta(p.name) + `\b`)
			for _, loc := range ref.FindAllStringIndex(f.expr, -1) {
				if f.line(loc[0]) == p.line {
					continue // the declaration
				}
				if !f.inKeyVaultSecretValue(loc[0], p.name) {
					out = append(out, fmt.Sprintf("%s:%d: secure parameter %s is used outside a Key Vault secret's value: there it is readable in plain text", f.name, f.line(loc[0]), p.name))
				}
			}
		}
		for _, loc := range keyFunctions.FindAllStringIndex(f.expr, -1) {
			out = append(out, fmt.Sprintf("%s:%d: %s reads a key or secret into the template; use the managed identity", f.name, f.line(loc[0]), strings.TrimSpace(f.expr[loc[0]:loc[1]])))
		}
		for _, loc := range plainSecret.FindAllStringIndex(f.code, -1) {
			out = append(out, fmt.Sprintf("%s:%d: a secret in plain text (%s...)", f.name, f.line(loc[0]), f.code[loc[0]:min(loc[1], loc[0]+12)]))
		}
	}
	var params struct {
		Parameters map[string]struct {
			Value any `json:"value"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(in.params), &params); err != nil {
		return append(out, "main.parameters.json: "+err.Error())
	}
	for name, p := range params.Parameters {
		if !secure[name] {
			continue
		}
		if s, ok := p.Value.(string); !ok || !azdValue.MatchString(s) {
			out = append(out, fmt.Sprintf("main.parameters.json: secure parameter %s must be an azd ${VARIABLE}, not a value", name))
		}
	}
	if m := plainSecret.FindString(in.params); m != "" {
		out = append(out, fmt.Sprintf("main.parameters.json: a secret in plain text (%.12s...)", m))
	}
	return out
}

// checkPlan: the plan is Flex Consumption (FC1).
func checkPlan(in infra) []string {
	var out []string
	var plans int
	for _, f := range in.files() {
		for _, r := range f.resources() {
			if !strings.HasPrefix(r.typ, "Microsoft.Web/serverfarms@") {
				continue
			}
			plans++
			sku, ok := f.path(r.body, "sku")
			if !ok {
				out = append(out, r.where()+": the plan has no sku object")
				continue
			}
			for _, want := range [][2]string{{"tier", "'FlexConsumption'"}, {"name", "'FC1'"}} {
				if got, _, _ := f.prop(sku, want[0]); got != want[1] {
					out = append(out, fmt.Sprintf("%s: plan sku.%s is %q; want %s", r.where(), want[0], got, want[1]))
				}
			}
		}
	}
	if plans == 0 {
		out = append(out, "no Microsoft.Web/serverfarms resource (the Flex Consumption plan) found")
	}
	return out
}

// TestRealInfra runs every check on the files in this folder.
func TestRealInfra(t *testing.T) {
	in := loadInfra(t)
	for _, p := range in.problems() {
		t.Error(p)
	}
	// The checks looked at something: one site with runtime and scale, five role assignments.
	if n := len(in.sites()); n != 1 {
		t.Errorf("found %d Microsoft.Web/sites resources, want 1", n)
	}
	var assignments int
	for _, f := range in.files() {
		for _, r := range f.resources() {
			if strings.HasPrefix(r.typ, "Microsoft.Authorization/roleAssignments@") {
				assignments++
			}
		}
	}
	if assignments != 5 {
		t.Errorf("found %d role assignments, want 5 (four in main.bicep, one in modules/workspace-reader.bicep)", assignments)
	}
}

// TestChecksCatchBrokenInfra breaks one thing at a time in a copy of the real files and expects a
// problem naming it.
func TestChecksCatchBrokenInfra(t *testing.T) {
	const main, module, params = "main.bicep", "modules/workspace-reader.bicep", "main.parameters.json"
	for _, test := range []struct {
		name     string
		file     string
		old, new string
		want     string
	}{
		{"runtime version", main, "version: '1.0'", "version: '2.0'", "functionAppConfig.runtime.version is '2.0'"},
		{"runtime name", main, "name: 'custom' //", "name: 'go' //", "functionAppConfig.runtime.name is 'go'"},
		{"runtime missing", main, "      runtime: {", "      runtimeX: {", "no properties.functionAppConfig.runtime"},
		{"max instances below 40", main, "@minValue(40)\n@maxValue(1000)\n@description('Flex Consumption maximum instance count (40 to 1000). huntwatch uses one instance at a time whatever the value.')\nparam maximumInstanceCount int = 40",
			"@minValue(1)\n@maxValue(1000)\nparam maximumInstanceCount int = 1", "needs @minValue(40)"},
		{"max instances without minValue", main, "@minValue(40)\n", "", "needs @minValue(40)"},
		{"max instances default", main, "param maximumInstanceCount int = 40", "param maximumInstanceCount int = 20", "needs a default from 40 to 1000"},
		{"max instances literal", main, "maximumInstanceCount: maximumInstanceCount", "maximumInstanceCount: 1", "maximumInstanceCount is 1"},
		{"max instances above 1000", main, "@maxValue(1000)", "@maxValue(5000)", "needs @maxValue(1000)"},
		{"max instances unset", main, "        maximumInstanceCount: maximumInstanceCount\n", "", "sets no maximumInstanceCount"},
		{"GOMEMLIMIT missing", main, "  GOMEMLIMIT: '${instanceMemoryMB * 7 / 32}MiB'\n", "", "sets no GOMEMLIMIT"},
		{"GOMEMLIMIT fixed", main, "  GOMEMLIMIT: '${instanceMemoryMB * 7 / 32}MiB'\n", "  GOMEMLIMIT: '400MiB'\n", "GOMEMLIMIT is '400MiB'"},
		{"memory allowed list", main, "@allowed([ 512, 2048, 4096 ])", "@allowed([ 512, 1024, 2048, 4096 ])", "@allowed lists 1024"},
		{"memory without allowed", main, "@allowed([ 512, 2048, 4096 ])\n", "", "needs @allowed"},
		{"memory literal", main, "instanceMemoryMB: instanceMemoryMB", "instanceMemoryMB: 1536", "instanceMemoryMB is 1536"},
		{"FUNCTIONS_WORKER_RUNTIME", main, "  LOG_LEVEL: logLevel\n", "  LOG_LEVEL: logLevel\n  FUNCTIONS_WORKER_RUNTIME: 'custom'\n", "app setting FUNCTIONS_WORKER_RUNTIME"},
		{"FUNCTIONS_EXTENSION_VERSION", main, "  LOG_LEVEL: logLevel\n", "  LOG_LEVEL: logLevel\n  FUNCTIONS_EXTENSION_VERSION: '~4'\n", "app setting FUNCTIONS_EXTENSION_VERSION"},
		{"WEBSITE_RUN_FROM_PACKAGE", main, "  LOG_LEVEL: logLevel\n", "  LOG_LEVEL: logLevel\n  WEBSITE_RUN_FROM_PACKAGE: '1'\n", "app setting WEBSITE_RUN_FROM_PACKAGE"},
		{"SCM_DO_BUILD_DURING_DEPLOYMENT", main, "  LOG_LEVEL: logLevel\n", "  LOG_LEVEL: logLevel\n  'SCM_DO_BUILD_DURING_DEPLOYMENT': 'false'\n", "app setting SCM_DO_BUILD_DURING_DEPLOYMENT"},
		{"WEBSITE_CONTENTSHARE", main, "  LOG_LEVEL: logLevel\n", "  LOG_LEVEL: logLevel\n  WEBSITE_CONTENTSHARE: functionAppName\n", "app setting WEBSITE_CONTENTSHARE"},
		{"WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", main, "  LOG_LEVEL: logLevel\n", "  LOG_LEVEL: logLevel\n  WEBSITE_CONTENTAZUREFILECONNECTIONSTRING: ''\n", "app setting WEBSITE_CONTENTAZUREFILECONNECTIONSTRING"},
		{"WEBSITE_TIME_ZONE", main, "  LOG_LEVEL: logLevel\n", "  LOG_LEVEL: logLevel\n  WEBSITE_TIME_ZONE: 'UTC'\n", "app setting WEBSITE_TIME_ZONE"},
		{"TZ", main, "  LOG_LEVEL: logLevel\n", "  LOG_LEVEL: logLevel\n  TZ: 'Europe/Paris'\n", "app setting TZ"},
		{"ftpsState", main, "      minTlsVersion: '1.2'\n", "      minTlsVersion: '1.2'\n      ftpsState: 'Disabled'\n", "site property ftpsState"},
		{"use32BitWorkerProcess", main, "      minTlsVersion: '1.2'\n", "      minTlsVersion: '1.2'\n      use32BitWorkerProcess: false\n", "site property use32BitWorkerProcess"},
		{"preWarmedInstanceCount", main, "      minTlsVersion: '1.2'\n", "      minTlsVersion: '1.2'\n      preWarmedInstanceCount: 1\n", "site property preWarmedInstanceCount"},
		{"netFrameworkVersion", main, "      minTlsVersion: '1.2'\n", "      minTlsVersion: '1.2'\n      netFrameworkVersion: 'v8.0'\n", "site property netFrameworkVersion"},
		{"functionAppScaleLimit", main, "      minTlsVersion: '1.2'\n", "      minTlsVersion: '1.2'\n      functionAppScaleLimit: 1\n", "site property functionAppScaleLimit"},
		{"minimumElasticInstanceCount", main, "      minTlsVersion: '1.2'\n", "      minTlsVersion: '1.2'\n      minimumElasticInstanceCount: 0\n", "site property minimumElasticInstanceCount"},
		{"a broad role id", main, "storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'", "storageBlobDataOwner: 'b24988ac-6180-42a0-ab88-20f7382dd24c'", "b24988ac-6180-42a0-ab88-20f7382dd24c is not one of the roles"},
		{"a role key with another role's id", main, "monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'", "monitoringMetricsPublisher: '4633458b-17de-408a-b874-0445c86b69e6'", "roleIds.monitoringMetricsPublisher is '4633458b"},
		{"an extra role", main, "  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'\n", "  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'\n  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c'\n", "roleIds.contributor is not a role huntwatch needs"},
		{"assignment without scope", main, "  scope: keyVault\n", "", "role assignment keyVaultSecretsUser (keyVaultSecretsUser) has no scope"},
		{"assignment on the resource group", main, "  scope: keyVault\n", "  scope: resourceGroup()\n", "is scoped to resourceGroup()"},
		{"assignment on the wrong resource", main, "  scope: appInsights\n", "  scope: storage\n", "gives monitoringMetricsPublisher on storage"},
		{"table role on the table itself is fine, on the vault not", main, "  scope: storage\n  properties: {\n    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)",
			"  scope: keyVault\n  properties: {\n    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)", "gives storageTableDataContributor on keyVault"},
		{"module given a broader role", main, "roleDefinitionId: roleIds.logAnalyticsReader", "roleDefinitionId: roleIds.storageBlobDataOwner", "gives storageBlobDataOwner on workspace"},
		{"module assignment without scope", module, "  scope: workspace\n", "", "has no scope"},
		{"secret into an app setting", main, "SLACK_BOT_TOKEN: slackAuthMode == 'botToken' ? slackKeyVaultReference : ''", "SLACK_BOT_TOKEN: slackAuthMode == 'botToken' ? slackSecret : ''", "secure parameter slackSecret is used outside a Key Vault secret's value"},
		{"secret in an output", main, "output APPLICATIONINSIGHTS_NAME string = appInsights.name\n", "output APPLICATIONINSIGHTS_NAME string = appInsights.name\noutput SLACK string = 'x${slackSecret}'\n", "secure parameter slackSecret is used outside"},
		{"secret parameter not secure", main, "@secure()\n@description('The Slack bot token", "@description('The Slack bot token", "parameter slackSecret looks like a secret but is not @secure()"},
		{"storage key in a setting", main, "DEDUP_TABLE_CONNECTION: ''", "DEDUP_TABLE_CONNECTION: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value}'", "listKeys( reads a key"},
		{"token literal", main, "param slackApiUrl string = 'https://slack.com/api/'", "param slackApiUrl string = 'https://slack.com/api/'\nparam slackDefault string = 'xoxb-1234-5678-abcdef'", "a secret in plain text"},
		{"secret value in parameters file", params, `"value": "${SLACK_SECRET}"`, `"value": "hunter2"`, "secure parameter slackSecret must be an azd ${VARIABLE}"},
		{"plan not Flex", main, "    name: 'FC1'", "    name: 'Y1'", "plan sku.name is \"'Y1'\""},
	} {
		t.Run(test.name, func(t *testing.T) {
			in := loadInfra(t)
			var src string
			if test.file == params {
				src = in.params
			} else {
				src = in.bicep[test.file].src
			}
			if !strings.Contains(src, test.old) {
				t.Fatalf("%s no longer contains %q: update this case to the file's new shape", test.file, test.old)
			}
			broken := strings.Replace(src, test.old, test.new, 1)
			if test.file == params {
				in.params = broken
			} else {
				in.bicep[test.file] = parseBicep(test.file, broken)
			}
			got := in.problems()
			if !containsSubstring(got, test.want) {
				t.Errorf("after %q -> %q, want a problem containing %q; got:\n%s", test.old, test.new, test.want, strings.Join(got, "\n"))
			}
		})
	}
}

// TestChecksOnSnippets covers shapes the real files do not have: text in comments and strings is
// not code, and forms the checks cannot read fail instead of passing unchecked.
func TestChecksOnSnippets(t *testing.T) {
	const goodSite = `
resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
}
resource app 'Microsoft.Web/sites@2024-04-01' = {
  properties: {
    // FUNCTIONS_WORKER_RUNTIME: 'custom' is what Linux Consumption would need; ftpsState: 'x'
    siteConfig: {
      /* use32BitWorkerProcess: false */
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      scaleAndConcurrency: {
        instanceMemoryMB: 2048
        maximumInstanceCount: 100
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
  }
  tags: {
    note: 'TZ: UTC is not set here; name: \'WEBSITE_TIME_ZONE\' neither; ${'interpolated {braces}'}'
  }
}
`
	for _, test := range []struct {
		name string
		src  string
		want string // "" = no problem
	}{
		{"comments and strings are not code", goodSite, ""},
		{"app settings as an array", strings.Replace(goodSite, "minTlsVersion: '1.2'", "minTlsVersion: '1.2'\n      appSettings: [\n        { name: 'WEBSITE_RUN_FROM_PACKAGE', value: '1' }\n      ]", 1), "app setting WEBSITE_RUN_FROM_PACKAGE"},
		{"runtime from a parameter", strings.Replace(goodSite, "name: 'custom'", "name: runtimeName", 1), "functionAppConfig.runtime.name is runtimeName"},
		{"memory from an unknown name", strings.Replace(goodSite, "instanceMemoryMB: 2048", "instanceMemoryMB: memory", 1), "neither an integer nor a parameter"},
		{"no site", "param x string\n", "no Microsoft.Web/sites resource found"},
		{"role assignment in a loop", goodSite + `
resource many 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for id in ids: {
  name: guid(id)
}]
`, "write each as a plain block"},
		{"role assignment with a literal role id on the resource group", goodSite + `
resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid('x')
  scope: resourceGroup()
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '73c42c96-874c-492b-b04d-ab87d138a893')
  }
}
`, "is scoped to resourceGroup()"},
		{"secure parameter in a tag", goodSite + `
@secure()
param apiToken string
resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
  tags: { t: apiToken }
}
`, "secure parameter apiToken is used outside a Key Vault secret's value"},
		{"secure parameter as a Key Vault secret", goodSite + `
@secure()
param apiToken string
resource s 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  properties: {
    value: apiToken
  }
}
`, ""},
		{"multi-line decorators", strings.Replace(goodSite, "maximumInstanceCount: 100", "maximumInstanceCount: maxCount", 1) + `
@minValue(
  40)
@maxValue(1000)
@metadata({
  note: 'multi-line'
})
param maxCount int = 40
`, ""},
	} {
		t.Run(test.name, func(t *testing.T) {
			in := infra{bicep: map[string]*bicepFile{"main.bicep": parseBicep("main.bicep", test.src)}, params: `{"parameters": {}}`}
			got := in.problems()
			switch {
			case test.want == "" && len(got) > 0:
				t.Errorf("want no problem, got:\n%s", strings.Join(got, "\n"))
			case test.want != "" && !containsSubstring(got, test.want):
				t.Errorf("want a problem containing %q, got:\n%s", test.want, strings.Join(got, "\n"))
			}
		})
	}
}

func containsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
