package fakeslack

import (
	"encoding/json"
	"fmt"
	"unicode/utf16"
)

// The limits Slack enforces on a message (https://docs.slack.dev/reference/block-kit/blocks),
// counted in characters (here: UTF-16 code units, as Slack's clients count them).
const (
	MaxBlocks      = 50
	MaxHeaderText  = 150
	MaxSectionText = 3000
	MaxFields      = 10
	MaxFieldText   = 2000
	MaxElements    = 10 // context elements
	MaxObjectText  = 3000
	MaxBlockID     = 255
	// MaxBlocksText is the undocumented bound on the text of all blocks together, past which
	// chat.postMessage answers msg_blocks_too_long (slackapi/bolt-js#2509: about 13,200).
	MaxBlocksText = 13200
	// MaxText bounds the top-level text field (msg_too_long).
	MaxText = 40000
)

// TextLen counts s in UTF-16 code units.
func TextLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r) // ranging a string never yields a surrogate, so never -1
	}
	return n
}

// Check applies Slack's rules to a blocks array, as sent in the blocks field. It returns "" or
// the error code Slack would answer (invalid_blocks_format, invalid_blocks, msg_blocks_too_long)
// and what is wrong, so tests can also check messages without posting them.
func Check(blocks []byte) (code, detail string) {
	var list []json.RawMessage
	if err := json.Unmarshal(blocks, &list); err != nil {
		return "invalid_blocks_format", "blocks is not a JSON array: " + err.Error()
	}
	if len(list) > MaxBlocks {
		return "invalid_blocks", fmt.Sprintf("%d blocks, more than %d", len(list), MaxBlocks)
	}
	c := checker{ids: map[string]bool{}}
	for i, raw := range list {
		var b map[string]any
		if err := json.Unmarshal(raw, &b); err != nil || b == nil {
			return "invalid_blocks_format", fmt.Sprintf("blocks[%d] is not an object", i)
		}
		if d := c.block(fmt.Sprintf("blocks[%d]", i), b); d != "" {
			return "invalid_blocks", d
		}
	}
	if c.total > MaxBlocksText {
		return "msg_blocks_too_long", fmt.Sprintf("%d characters of text in blocks, more than %d", c.total, MaxBlocksText)
	}
	return "", ""
}

type checker struct {
	ids   map[string]bool
	total int
}

func (c *checker) block(at string, b map[string]any) string {
	typ, _ := b["type"].(string)
	if id, ok := b["block_id"]; ok {
		s, _ := id.(string)
		if s == "" || TextLen(s) > MaxBlockID || c.ids[s] {
			return at + ": block_id missing, too long or repeated"
		}
		c.ids[s] = true
	}
	switch typ {
	case "header":
		return c.text(at+".text", b["text"], MaxHeaderText, true, "plain_text")
	case "section":
		_, hasText := b["text"]
		fields, hasFields := b["fields"]
		if !hasText && !hasFields {
			return at + ": a section needs text or fields"
		}
		if hasText {
			if d := c.text(at+".text", b["text"], MaxSectionText, true, "plain_text", "mrkdwn"); d != "" {
				return d
			}
		}
		if hasFields {
			list, ok := fields.([]any)
			if !ok || len(list) == 0 || len(list) > MaxFields {
				return fmt.Sprintf("%s.fields: between 1 and %d text objects", at, MaxFields)
			}
			for i, f := range list {
				if d := c.text(fmt.Sprintf("%s.fields[%d]", at, i), f, MaxFieldText, true, "plain_text", "mrkdwn"); d != "" {
					return d
				}
			}
		}
	case "context":
		list, ok := b["elements"].([]any)
		if !ok || len(list) == 0 || len(list) > MaxElements {
			return fmt.Sprintf("%s.elements: between 1 and %d elements", at, MaxElements)
		}
		for i, e := range list {
			el, _ := e.(map[string]any)
			if t, _ := el["type"].(string); t == "image" {
				continue
			}
			if d := c.text(fmt.Sprintf("%s.elements[%d]", at, i), e, MaxObjectText, true, "plain_text", "mrkdwn"); d != "" {
				return d
			}
		}
	case "divider":
	case "markdown":
		s, _ := b["text"].(string)
		if s == "" || TextLen(s) > 12000 {
			return at + ".text: between 1 and 12000 characters"
		}
		c.total += TextLen(s)
	case "rich_text", "actions", "image", "input", "file", "video":
		c.total += textIn(b)
	default:
		return fmt.Sprintf("%s: unknown block type %q", at, typ)
	}
	return ""
}

// text checks a text object of one of types, at most max characters.
func (c *checker) text(at string, v any, max int, required bool, types ...string) string {
	if v == nil {
		if required {
			return at + ": missing"
		}
		return ""
	}
	o, ok := v.(map[string]any)
	if !ok {
		return at + ": not a text object"
	}
	typ, _ := o["type"].(string)
	okType := false
	for _, t := range types {
		okType = okType || typ == t
	}
	if !okType {
		return fmt.Sprintf("%s: type %q, want one of %v", at, typ, types)
	}
	if _, ok := o["emoji"]; ok && typ != "plain_text" {
		return at + ": emoji is only for plain_text"
	}
	if _, ok := o["verbatim"]; ok && typ != "mrkdwn" {
		return at + ": verbatim is only for mrkdwn"
	}
	s, _ := o["text"].(string)
	n := TextLen(s)
	if n == 0 || n > max {
		return fmt.Sprintf("%s: %d characters, want 1 to %d", at, n, max)
	}
	c.total += n
	return ""
}

// textIn sums the "text" strings anywhere in v.
func textIn(v any) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "text" {
				n += TextLen(s)
			} else {
				n += textIn(e)
			}
		}
	case []any:
		for _, e := range x {
			n += textIn(e)
		}
	}
	return n
}
