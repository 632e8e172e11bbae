(sb-alien:alien-funcall (sb-alien:extern-alien "abort" (function sb-alien:void)))
