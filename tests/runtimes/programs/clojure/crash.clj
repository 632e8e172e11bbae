(let [field (.getDeclaredField sun.misc.Unsafe "theUnsafe")]
  (.setAccessible field true)
  (.putAddress ^sun.misc.Unsafe (.get field nil) 0 0))
