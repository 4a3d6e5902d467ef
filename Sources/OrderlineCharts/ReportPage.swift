/// The page a report's charts and tables go into: well-formed XHTML (so that an XML
/// parser can check it), with its style inline (no network), for the shadow-routing
/// report and the benchmark reports.
public enum ReportPage {
    /// `body` (already XHTML) under `title`, at most `width` wide.
    public static func html(title: String, body: String, width: String = "72rem") -> String {
        """
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
        <head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>\(SVG.escaped(title))</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: \(width); padding: 0 1rem; color: #1d2430; }
        table { border-collapse: collapse; margin: 1rem 0; }
        th, td { border-bottom: 1px solid #d8dde6; padding: 0.3rem 0.8rem; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        svg { display: block; margin: 1.5rem 0; max-width: 100%; height: auto; }
        </style></head>
        <body>
        \(body)</body>
        </html>

        """
    }
}
