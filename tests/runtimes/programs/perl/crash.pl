kill 'ABRT', $$;
sleep 10;
