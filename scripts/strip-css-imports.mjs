// Removes `import './x.css';` lines from the client's type declarations: the stylesheet ships as one
// file (@herald/client/style.css) and no module imports it, so the declarations must not either.
import fs from 'node:fs';
import path from 'node:path';

function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(file);
    else if (file.endsWith('.d.ts')) {
      const text = fs.readFileSync(file, 'utf8');
      const stripped = text.replace(/^import '[^']+\.css';\n/gm, '');
      if (stripped !== text) fs.writeFileSync(file, stripped);
    }
  }
}

walk(process.argv[2] ?? 'dist/types');
