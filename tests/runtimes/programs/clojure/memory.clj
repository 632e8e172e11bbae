;; Touches 600 MiB, one MiB at a time.
(def blocks (doall (for [i (range 600)] (let [b (byte-array 1048576)] (java.util.Arrays/fill b (byte (mod i 100))) b))))
(println "survived" (count blocks))
