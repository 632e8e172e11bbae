// Touches 600 MiB, one MiB at a time (on V8's heap: arrays of numbers).
const blocks: number[][] = [];
for (let i = 0; i < 600; i++) {
    blocks.push(new Array<number>(131072).fill(i + 0.5));
}
console.log("survived", blocks.length);
