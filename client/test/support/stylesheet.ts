// Stylesheets are the browser's business: under jest an import of one is this empty module.
export {};
