import type { Config } from '../config.js';

/** The platform's front page: what runs here and where to go next. No script, no style. */
export function landingPage(config: Config): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PIN Widgets platform</title>
</head>
<body>
<main>
<h1>PIN Widgets platform</h1>
<p>This server is the issuer platform: the card API, the PIN widgets and the host SDK.</p>
<ul>
<li><a href="/openapi.json">OpenAPI 3.1 description of the API</a></li>
<li><a href="http://127.0.0.1:${config.demoSitePort}/">The demo card-program site</a></li>
</ul>
</main>
</body>
</html>`;
}
