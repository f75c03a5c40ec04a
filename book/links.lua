-- book/links.lua: a pandoc filter for the hand-written pages (front matter,
-- appendices). A link to a chapter page that is not built (the chapter does
-- not exist yet) becomes plain text, with a note on stderr, so the book
-- builds and checks cleanly while chapters are still being written.
-- BOOK_PAGES holds the names of the pages being built, space separated.
local have = {}
for p in (os.getenv("BOOK_PAGES") or ""):gmatch("%S+") do have[p] = true end

local told = {}

function Link(el)
  local t = el.target
  if t:match("^%a[%w+.-]*:") then return nil end
  local page = t:match("^([^#]*)")
  if page == "" or not page:match("^%d%d%-.*%.html$") then return nil end
  if have[page] then return nil end
  if told[page] then return pandoc.Span(el.content, {class = "unbuilt"}) end
  told[page] = true
  io.stderr:write("book: " .. page .. " is not built (no such chapter yet); its link is left as text\n")
  return pandoc.Span(el.content, {class = "unbuilt"})
end
