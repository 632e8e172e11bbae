(* Touches 600 MiB, one MiB at a time. *)
let blocks = List.init 600 (fun i -> Bytes.make (1 lsl 20) (Char.chr (i mod 256)))
let () = Printf.printf "survived %d\n" (List.length blocks)
