// Touches 600 MiB of V8 heap, one MiB at a time.
const blocks = [];
for (let i = 0; i < 600; i++) blocks.push(new Array(1 << 17).fill(i + 0.5));
console.log("survived", blocks.length);
