package hunt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Pack is a set of hunts loaded together (HUNTS): what loaded, and what did not.
type Pack struct {
	// Hunts are the hunts that loaded, sorted by name (then source); their IDs are unique.
	// Disabled hunts are in it: they are listed, not run.
	Hunts []*Hunt
	// Broken are the files that could not be loaded, in the order they were met: each one is
	// reported (at start-up, by validate, in Slack) and the others run.
	Broken []LoadError
}

// LoadError is a file of a pack that could not be loaded.
type LoadError struct {
	Source string // the file path, "bundled:NAME", or the reference as given
	Err    error  // names the source too
}

func (e LoadError) Error() string { return e.Err.Error() }
func (e LoadError) Unwrap() error { return e.Err }

// Hunt returns the pack's hunt with the given name or ID (names compared ignoring case), or nil.
func (p *Pack) Hunt(nameOrID string) *Hunt {
	for _, h := range p.Hunts {
		if h.ID == nameOrID || strings.EqualFold(h.Name, nameOrID) {
			return h
		}
	}
	return nil
}

// references are the bundled hunts kept as references, not run by default (a bundled file may
// also say so itself, with huntwatch.reference). The seed cannot: it stays byte for byte the
// upstream file. docs/hunts.md tells their story.
var references = map[string]string{
	"seed-runcommand-mde": "known broken upstream: the seed kept byte for byte; its entity mappings name " +
		"AccountCustomEntity and IPCustomEntity, which its query does not return (docs/hunts.md, defect 5)",
}

// BundledPack returns the names of the bundled hunts that run by default: every bundled hunt but
// the references (Hunt.Reference).
func BundledPack() []string {
	var names []string
	for _, name := range Bundled() {
		if _, ref := references[name]; ref {
			continue
		}
		if h, err := Load(name); err == nil && h.Reference != "" {
			continue
		}
		names = append(names, name)
	}
	return names
}

// LoadPack loads the hunts refs name: bundled hunts' names, YAML files, and folders, of which it
// loads every *.yaml and *.yml file, recursively, in path order (names starting with "." are
// skipped). It never fails as a whole: each reference or file that cannot be loaded is a
// LoadError in Broken, and so is the second of two hunts with one ID (naming both files). A file
// named twice (directly and through its folder) is loaded once.
func LoadPack(refs []string) *Pack {
	p := &Pack{}
	seen := map[string]bool{} // sources loaded
	byID := map[string]*Hunt{}
	add := func(source string, data []byte, readErr error) {
		if seen[source] {
			return
		}
		seen[source] = true
		if readErr != nil {
			p.Broken = append(p.Broken, LoadError{Source: source, Err: fmt.Errorf("hunt %s: %w", source, readErr)})
			return
		}
		h, err := Parse(data, source)
		if err != nil {
			p.Broken = append(p.Broken, LoadError{Source: source, Err: err})
			return
		}
		id := strings.ToLower(strings.TrimSpace(h.ID))
		if first, dup := byID[id]; dup {
			p.Broken = append(p.Broken, LoadError{Source: source, Err: fmt.Errorf(
				"hunt %s: id %s is already the id of %s (%q); ids must be unique in a pack, so this one is not loaded",
				source, h.ID, first.Source, first.Name)})
			return
		}
		byID[id] = h
		p.Hunts = append(p.Hunts, h)
	}
	for _, ref := range refs {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			continue
		}
		if data, err := bundled.ReadFile(path.Join("bundled", ref+".yaml")); err == nil {
			add("bundled:"+ref, data, nil)
			continue
		}
		info, err := os.Stat(ref)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			p.Broken = append(p.Broken, LoadError{Source: ref, Err: fmt.Errorf(
				"hunt %q: no such file or folder, and no bundled hunt of that name (bundled: %s)", ref, strings.Join(Bundled(), ", "))})
		case err != nil:
			p.Broken = append(p.Broken, LoadError{Source: ref, Err: fmt.Errorf("hunt %q: %w", ref, err)})
		case info.IsDir():
			files, err := yamlFiles(ref)
			if err != nil {
				p.Broken = append(p.Broken, LoadError{Source: ref, Err: fmt.Errorf("hunts folder %s: %w", ref, err)})
			}
			if err == nil && len(files) == 0 {
				p.Broken = append(p.Broken, LoadError{Source: ref, Err: fmt.Errorf("hunts folder %s holds no *.yaml or *.yml file", ref)})
			}
			for _, f := range files {
				data, err := os.ReadFile(f)
				add(f, data, err)
			}
		default:
			data, err := os.ReadFile(ref)
			add(filepath.Clean(ref), data, err)
		}
	}
	sort.SliceStable(p.Hunts, func(i, j int) bool {
		a, b := p.Hunts[i], p.Hunts[j]
		if la, lb := strings.ToLower(a.Name), strings.ToLower(b.Name); la != lb {
			return la < lb
		}
		return a.Source < b.Source
	})
	return p
}

// yamlFiles lists the *.yaml and *.yml files under dir, recursively, sorted, skipping names that
// start with a dot.
func yamlFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch ext := strings.ToLower(filepath.Ext(p)); {
		case d.IsDir():
		case ext == ".yaml" || ext == ".yml":
			files = append(files, filepath.Clean(p))
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}
