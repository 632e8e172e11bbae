// Touches 600 MiB outside the V8 heap (a Buffer), where --max-old-space-size does not reach.
const block = Buffer.alloc(600 << 20, 1);
console.log("survived", block.length);
